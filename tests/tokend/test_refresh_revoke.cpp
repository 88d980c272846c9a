// /v2/tokens/refresh and /v2/tokens/revoke against a real tokend and Redis, including
// replace_existing, the refresh race and refreshing dead tokens.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "common/identifiers.hpp"
#include "tests/tokend/tokend_harness.hpp"

using namespace tka::test;
using nlohmann::json;

namespace {

json create(HttpClient& client, const TestOrg& org, const std::string& email, const Tokend& tokend,
            std::optional<bool> replace = std::nullopt) {
    json body = create_body(org, email);
    if (replace) {
        body["replace_existing"] = *replace;
    }
    auto r = post_json(client, "/v2/tokens/create", body);
    TKA_REQUIRE_STATUS(r, 200, tokend);
    return r.json;
}

json revoke_body(const TestOrg& org) {
    return {{"organization_id", org.id}, {"secret_key", org.key}};
}

}  // namespace

TEST_CASE("refresh rotates the password and keeps the token id", "[tokend][refresh]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis, 600);
    auto client = tokend.client();
    json first = create(client, org, "dev@example.com", tokend);

    auto r = post_json(client, "/v2/tokens/refresh", refresh_body(first));
    TKA_REQUIRE_STATUS(r, 200, tokend);
    const json& t = r.json;
    CHECK(t["token_id"] == first["token_id"]);
    CHECK(t["access_token"] != first["access_token"]);
    CHECK(t["access_token"].get<std::string>().rfind("tkn_", 0) == 0);
    CHECK(t["mqtt_credentials"]["password"] == t["access_token"]);
    CHECK(t["mqtt_credentials"]["username"] == first["mqtt_credentials"]["username"]);
    CHECK(t["token_type"] == "Bearer");
    CHECK(t["expires_in"] == 600);
    CHECK(t["user_email"] == "dev@example.com");
    CHECK(t["provider"] == "mosquitto-token-auth");
    auto exp = tka::parse_rfc3339(t["expires_at"].get<std::string>());
    auto rec = tka::parse_rfc3339(t["refresh_recommended_at"].get<std::string>());
    REQUIRE(exp);
    REQUIRE(rec);
    CHECK(*exp - *rec == 60);
    CHECK(*exp >= *tka::parse_rfc3339(first["expires_at"].get<std::string>()));

    // The old password is dead the moment the refresh succeeded.
    auto again = post_json(client, "/v2/tokens/refresh", refresh_body(first));
    TKA_REQUIRE_ERROR(again, 401, "invalid_grant", tokend);
    // The new one refreshes again.
    auto next = post_json(client, "/v2/tokens/refresh", refresh_body(t));
    TKA_REQUIRE_STATUS(next, 200, tokend);
}

TEST_CASE("refresh refuses wrong credentials and bad input", "[tokend][refresh]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    auto client = tokend.client();
    json token = create(client, org, "dev@example.com", tokend);

    SECTION("wrong password") {
        json body = refresh_body(token);
        body["current_token_password"] = tka::ids::new_token_password();
        auto r = post_json(client, "/v2/tokens/refresh", body);
        TKA_REQUIRE_ERROR(r, 401, "invalid_grant", tokend);
    }
    SECTION("password that is not a tkn_ password") {
        json body = refresh_body(token);
        body["current_token_password"] = "hunter2";
        auto r = post_json(client, "/v2/tokens/refresh", body);
        TKA_REQUIRE_ERROR(r, 401, "invalid_grant", tokend);
        CHECK(r.body.find("hunter2") == std::string::npos);
    }
    SECTION("unknown token id") {
        json body = refresh_body(token);
        body["token_id"] = tka::ids::new_token_id();
        auto r = post_json(client, "/v2/tokens/refresh", body);
        TKA_REQUIRE_ERROR(r, 401, "invalid_grant", tokend);
    }
    SECTION("token auth switched off for the organization") {
        {
            auto conn = redis.connect();
            tka::OrgStore(conn).update(org.id, std::nullopt, false);
        }
        auto r = post_json(client, "/v2/tokens/refresh", refresh_body(token));
        TKA_REQUIRE_ERROR(r, 403, "access_denied", tokend);
    }
    SECTION("missing field") {
        auto r = post_json(client, "/v2/tokens/refresh", {{"token_id", token["token_id"]}});
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
    }
    SECTION("ill-typed field") {
        auto r = post_json(client, "/v2/tokens/refresh",
                           {{"token_id", 7}, {"current_token_password", token["access_token"]}});
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
    }
    SECTION("malformed JSON") {
        auto r = post_raw(client, "/v2/tokens/refresh", "{\"token_id\"");
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
    }
}

TEST_CASE("concurrent refreshes with one password: exactly one wins", "[tokend][refresh]") {
    RedisServer redis;
    Tokend tokend(redis.url(), {"--threads", "16"});
    TestOrg org = make_org(redis);
    auto setup = tokend.client();
    json token = create(setup, org, "race@example.com", tokend);
    const std::string body = refresh_body(token).dump();

    constexpr int kRacers = 12;
    std::vector<int> statuses(kRacers, 0);
    std::vector<std::string> codes(kRacers);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kRacers; ++i) {
        threads.emplace_back([&, i] {
            auto client = tokend.client();
            ready++;
            while (ready < kRacers) {
                std::this_thread::yield();
            }
            auto r = post_raw(client, "/v2/tokens/refresh", body);
            statuses[i] = r.status;
            codes[i] = r.json.is_object() ? r.json.value("error", "") : "";
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    int ok = 0;
    for (int i = 0; i < kRacers; ++i) {
        INFO("racer " << i << ": " << statuses[i] << " " << codes[i]);
        if (statuses[i] == 200) {
            ++ok;
        } else {
            CHECK((statuses[i] == 401 || statuses[i] == 410));
        }
    }
    CHECK(ok == 1);
}

TEST_CASE("replace_existing decides whether older tokens survive", "[tokend][refresh]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    auto client = tokend.client();

    SECTION("default (true): the older token is replaced") {
        json old_token = create(client, org, "dev@example.com", tokend);
        json new_token = create(client, org, "DEV@example.com", tokend);
        auto r = post_json(client, "/v2/tokens/refresh", refresh_body(old_token));
        TKA_REQUIRE_ERROR(r, 410, "token_replaced", tokend);
        auto ok = post_json(client, "/v2/tokens/refresh", refresh_body(new_token));
        TKA_REQUIRE_STATUS(ok, 200, tokend);
    }
    SECTION("explicit true") {
        json old_token = create(client, org, "dev@example.com", tokend);
        create(client, org, "dev@example.com", tokend, true);
        auto r = post_json(client, "/v2/tokens/refresh", refresh_body(old_token));
        TKA_REQUIRE_ERROR(r, 410, "token_replaced", tokend);
    }
    SECTION("false: the older token keeps working") {
        json old_token = create(client, org, "dev@example.com", tokend);
        json new_token = create(client, org, "dev@example.com", tokend, false);
        auto r = post_json(client, "/v2/tokens/refresh", refresh_body(old_token));
        TKA_REQUIRE_STATUS(r, 200, tokend);
        auto r2 = post_json(client, "/v2/tokens/refresh", refresh_body(new_token));
        TKA_REQUIRE_STATUS(r2, 200, tokend);
    }
    SECTION("other e-mails are untouched") {
        json a = create(client, org, "a@example.com", tokend);
        create(client, org, "b@example.com", tokend);
        auto r = post_json(client, "/v2/tokens/refresh", refresh_body(a));
        TKA_REQUIRE_STATUS(r, 200, tokend);
    }
}

TEST_CASE("expired tokens cannot be refreshed", "[tokend][refresh]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis, 1);  // TTL 1 s
    auto client = tokend.client();
    json token = create(client, org, "short@example.com", tokend);
    CHECK(token["expires_in"] == 1);
    auto exp = tka::parse_rfc3339(token["expires_at"].get<std::string>());
    REQUIRE(exp);
    while (tka::unix_now() <= *exp) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto r = post_json(client, "/v2/tokens/refresh", refresh_body(token));
    TKA_REQUIRE_ERROR(r, 410, "token_expired", tokend);
}

TEST_CASE("revoke by token id", "[tokend][revoke]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    TestOrg other = make_org(redis);
    auto client = tokend.client();
    json token = create(client, org, "dev@example.com", tokend);
    json body = revoke_body(org);
    body["token_id"] = token["token_id"];

    SECTION("revokes once, then reports nothing left to revoke") {
        auto r = post_json(client, "/v2/tokens/revoke", body);
        TKA_REQUIRE_STATUS(r, 200, tokend);
        CHECK(r.json == json{{"revoked", json::array({token["token_id"]})}, {"count", 1}});
        auto refresh = post_json(client, "/v2/tokens/refresh", refresh_body(token));
        TKA_REQUIRE_ERROR(refresh, 410, "token_revoked", tokend);
        auto again = post_json(client, "/v2/tokens/revoke", body);
        TKA_REQUIRE_STATUS(again, 200, tokend);
        CHECK(again.json == json{{"revoked", json::array()}, {"count", 0}});
    }
    SECTION("an unknown token id is 404") {
        body["token_id"] = tka::ids::new_token_id();
        auto r = post_json(client, "/v2/tokens/revoke", body);
        TKA_REQUIRE_ERROR(r, 404, "not_found", tokend);
    }
    SECTION("another organization cannot revoke it") {
        json foreign = revoke_body(other);
        foreign["token_id"] = token["token_id"];
        auto r = post_json(client, "/v2/tokens/revoke", foreign);
        TKA_REQUIRE_ERROR(r, 404, "not_found", tokend);
        auto still = post_json(client, "/v2/tokens/refresh", refresh_body(token));
        TKA_REQUIRE_STATUS(still, 200, tokend);
    }
    SECTION("wrong secret key") {
        body["secret_key"] = other.key;
        auto r = post_json(client, "/v2/tokens/revoke", body);
        TKA_REQUIRE_ERROR(r, 401, "invalid_client", tokend);
    }
    SECTION("both token id and e-mail") {
        body["user_email"] = "dev@example.com";
        auto r = post_json(client, "/v2/tokens/revoke", body);
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
    }
}

TEST_CASE("revoke by e-mail revokes every live token of that user", "[tokend][revoke]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    auto client = tokend.client();
    json a1 = create(client, org, "dev@example.com", tokend);
    json a2 = create(client, org, "dev@example.com", tokend, false);
    json b = create(client, org, "other@example.com", tokend);

    json body = revoke_body(org);
    body["user_email"] = "Dev@Example.com";
    auto r = post_json(client, "/v2/tokens/revoke", body);
    TKA_REQUIRE_STATUS(r, 200, tokend);
    CHECK(r.json["count"] == 2);
    REQUIRE(r.json["revoked"].is_array());
    std::set<std::string> revoked(r.json["revoked"].begin(), r.json["revoked"].end());
    CHECK(revoked == std::set<std::string>{a1["token_id"], a2["token_id"]});

    TKA_REQUIRE_ERROR(post_json(client, "/v2/tokens/refresh", refresh_body(a1)), 410,
                      "token_revoked", tokend);
    TKA_REQUIRE_ERROR(post_json(client, "/v2/tokens/refresh", refresh_body(a2)), 410,
                      "token_revoked", tokend);
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/refresh", refresh_body(b)), 200, tokend);

    auto again = post_json(client, "/v2/tokens/revoke", body);
    TKA_REQUIRE_STATUS(again, 200, tokend);
    CHECK(again.json["count"] == 0);

    body["user_email"] = "nobody-at-all";
    TKA_REQUIRE_ERROR(post_json(client, "/v2/tokens/revoke", body), 400, "invalid_request", tokend);
}
