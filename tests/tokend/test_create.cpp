// POST /v2/tokens/create against a real tokend and Redis: the response shape of the seed
// product, and every way a create can be refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

#include "common/identifiers.hpp"
#include "common/redis_keys.hpp"
#include "tests/tokend/tokend_harness.hpp"

using namespace tka::test;
using nlohmann::json;

TEST_CASE("create returns the seed's response shape", "[tokend][create]") {
    RedisServer redis;
    Tokend tokend(redis.url(), {"--provider", "acme-cloud"});
    TestOrg org = make_org(redis, 3600);
    auto client = tokend.client();

    auto r = post_json(client, "/v2/tokens/create", create_body(org, "User@Example.com"));
    TKA_REQUIRE_STATUS(r, 200, tokend);
    CHECK(r.header("Content-Type").rfind("application/json", 0) == 0);
    const json& t = r.json;

    // Exactly the seed's keys, in the seed's order.
    std::vector<std::string> keys;
    for (auto it = t.begin(); it != t.end(); ++it) {
        keys.push_back(it.key());
    }
    // nlohmann::json sorts keys when parsing, so check the order on the raw text.
    std::vector<std::string> expected_order = {
        "\"access_token\"",     "\"token_type\"", "\"expires_in\"",
        "\"mqtt_credentials\"", "\"token_id\"",   "\"user_email\"",
        "\"provider\"",         "\"expires_at\"", "\"refresh_recommended_at\""};
    std::size_t previous = 0;
    for (const auto& key : expected_order) {
        auto at = r.body.find(key);
        INFO(key << " in " << r.body);
        REQUIRE(at != std::string::npos);
        CHECK(at >= previous);
        previous = at;
    }
    CHECK(keys.size() == 9);

    const std::string password = t["access_token"];
    CHECK(password.rfind("tkn_", 0) == 0);
    CHECK(password.size() >= 4 + 43);  // >= 256 bits in base64url
    CHECK(std::all_of(password.begin() + 4, password.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    }));
    CHECK(t["token_type"] == "Bearer");
    CHECK(t["expires_in"] == 3600);
    CHECK(t["mqtt_credentials"]["password"] == password);
    const std::string username = t["mqtt_credentials"]["username"];
    auto at = username.find('@');
    REQUIRE(at != std::string::npos);
    CHECK(username.substr(at + 1) == org.id);
    CHECK(tka::ids::is_user_id(username.substr(0, at)));
    CHECK(username.find("user") == std::string::npos);  // not the e-mail
    CHECK(tka::ids::is_token_id(t["token_id"].get<std::string>()));
    CHECK(t["user_email"] == "user@example.com");
    CHECK(t["provider"] == "acme-cloud");

    auto expires_at = tka::parse_rfc3339(t["expires_at"].get<std::string>());
    auto refresh_at = tka::parse_rfc3339(t["refresh_recommended_at"].get<std::string>());
    REQUIRE(expires_at);
    REQUIRE(refresh_at);
    CHECK(*expires_at - *refresh_at == 360);  // 10 % of 3600 s
    auto now = tka::unix_now();
    CHECK(*expires_at >= now + 3600 - 60);
    CHECK(*expires_at <= now + 3600 + 60);

    // The same e-mail gets the same user id; another e-mail another one.
    auto again = post_json(client, "/v2/tokens/create", create_body(org, "user@example.com"));
    TKA_REQUIRE_STATUS(again, 200, tokend);
    CHECK(again.json["mqtt_credentials"]["username"] == username);
    CHECK(again.json["access_token"] != password);
    CHECK(again.json["token_id"] != t["token_id"]);
    auto other = post_json(client, "/v2/tokens/create", create_body(org, "other@example.com"));
    TKA_REQUIRE_STATUS(other, 200, tokend);
    CHECK(other.json["mqtt_credentials"]["username"] != username);
}

TEST_CASE("create uses the organization's TTL and the default provider", "[tokend][create]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis, 120);
    auto client = tokend.client();
    auto r = post_json(client, "/v2/tokens/create", create_body(org, "a@example.com"));
    TKA_REQUIRE_STATUS(r, 200, tokend);
    CHECK(r.json["expires_in"] == 120);
    CHECK(r.json["provider"] == "mosquitto-token-auth");
    auto expires_at = tka::parse_rfc3339(r.json["expires_at"].get<std::string>());
    auto refresh_at = tka::parse_rfc3339(r.json["refresh_recommended_at"].get<std::string>());
    REQUIRE(expires_at);
    REQUIRE(refresh_at);
    CHECK(*expires_at - *refresh_at == 12);
}

TEST_CASE("create accepts a legacy cs_ key", "[tokend][create]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    const std::string legacy = "cs_LegacyKey_0123456789abcdef";
    {
        auto conn = redis.connect();
        tka::OrgStore(conn).import_key(org.id, legacy, tka::unix_now());
    }
    auto client = tokend.client();
    TestOrg legacy_org{org.id, legacy, org.ttl};
    auto r = post_json(client, "/v2/tokens/create", create_body(legacy_org, "a@example.com"));
    TKA_REQUIRE_STATUS(r, 200, tokend);
    CHECK(r.json["access_token"].get<std::string>().rfind("tkn_", 0) == 0);

    TestOrg wrong_legacy{org.id, "cs_LegacyKey_0123456789abcdeX", org.ttl};
    auto bad = post_json(client, "/v2/tokens/create", create_body(wrong_legacy, "a@example.com"));
    TKA_REQUIRE_ERROR(bad, 401, "invalid_client", tokend);
}

TEST_CASE("a revoked secret key is refused at once", "[tokend][create]") {
    // tokend caches only the org's user_salt: every create checks the key in Redis.
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    auto client = tokend.client();
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/create", create_body(org, "a@example.com")),
                       200, tokend);
    {
        auto conn = redis.connect();
        tka::OrgStore orgs(conn);
        orgs.revoke_key(org.id, orgs.list_keys(org.id).at(0).key_id);
    }
    auto r = post_json(client, "/v2/tokens/create", create_body(org, "a@example.com"));
    TKA_REQUIRE_ERROR(r, 401, "invalid_client", tokend);
}

TEST_CASE("create notices a changed user_salt instead of minting for a stale user id",
          "[tokend][create]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    auto client = tokend.client();
    auto first = post_json(client, "/v2/tokens/create", create_body(org, "a@example.com"));
    TKA_REQUIRE_STATUS(first, 200, tokend);  // tokend now has the salt cached

    // As if the organization had been deleted and re-created with the same id by hand.
    const std::string new_salt(64, 'f');
    {
        auto conn = redis.connect();
        conn.command({"HSET", tka::keys::org(org.id), "user_salt", new_salt});
    }
    auto second = post_json(client, "/v2/tokens/create", create_body(org, "a@example.com"));
    TKA_REQUIRE_STATUS(second, 200, tokend);
    const std::string expected =
        tka::ids::format_username(tka::ids::derive_user_id(new_salt, "a@example.com"), org.id);
    CHECK(second.json["mqtt_credentials"]["username"] == expected);
    CHECK(first.json["mqtt_credentials"]["username"] != expected);
}

TEST_CASE("create refuses wrong credentials and bad input", "[tokend][create]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    TestOrg other = make_org(redis);
    TestOrg off = make_org(redis, 3600, /*token_auth=*/false);
    auto client = tokend.client();

    SECTION("wrong secret key") {
        TestOrg wrong{org.id, tka::ids::new_secret_key(), 0};
        auto r = post_json(client, "/v2/tokens/create", create_body(wrong, "a@example.com"));
        TKA_REQUIRE_ERROR(r, 401, "invalid_client", tokend);
        CHECK(r.body.find(wrong.key) == std::string::npos);
    }
    SECTION("another organization's key") {
        TestOrg mixed{org.id, other.key, 0};
        auto r = post_json(client, "/v2/tokens/create", create_body(mixed, "a@example.com"));
        TKA_REQUIRE_ERROR(r, 401, "invalid_client", tokend);
        CHECK(r.body.find(other.key) == std::string::npos);
    }
    SECTION("unknown organization") {
        TestOrg unknown{tka::ids::new_org_id(), org.key, 0};
        auto r = post_json(client, "/v2/tokens/create", create_body(unknown, "a@example.com"));
        TKA_REQUIRE_ERROR(r, 401, "invalid_client", tokend);
    }
    SECTION("malformed secret key") {
        TestOrg junk{org.id, "sk_", 0};
        auto r = post_json(client, "/v2/tokens/create", create_body(junk, "a@example.com"));
        TKA_REQUIRE_ERROR(r, 401, "invalid_client", tokend);
    }
    SECTION("token auth off") {
        auto r = post_json(client, "/v2/tokens/create", create_body(off, "a@example.com"));
        TKA_REQUIRE_ERROR(r, 403, "access_denied", tokend);
    }
    SECTION("token auth switched off later") {
        {
            auto conn = redis.connect();
            tka::OrgStore(conn).update(org.id, std::nullopt, false);
        }
        auto r = post_json(client, "/v2/tokens/create", create_body(org, "a@example.com"));
        TKA_REQUIRE_ERROR(r, 403, "access_denied", tokend);
    }
    SECTION("bad e-mail") {
        auto r = post_json(client, "/v2/tokens/create", create_body(org, "not an email"));
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
    }
    SECTION("malformed JSON") {
        auto r = post_raw(client, "/v2/tokens/create", R"({"organization_id": )");
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
    }
    SECTION("missing field") {
        json body = create_body(org, "a@example.com");
        body.erase("user_email");
        auto r = post_json(client, "/v2/tokens/create", body);
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
    }
    SECTION("ill-typed field") {
        json body = create_body(org, "a@example.com");
        body["replace_existing"] = "yes";
        auto r = post_json(client, "/v2/tokens/create", body);
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
        body = create_body(org, "a@example.com");
        body["secret_key"] = json::array({org.key});
        r = post_json(client, "/v2/tokens/create", body);
        TKA_REQUIRE_ERROR(r, 400, "invalid_request", tokend);
        CHECK(r.body.find(org.key) == std::string::npos);
    }
    SECTION("not JSON content type") {
        auto r = post_raw(client, "/v2/tokens/create", create_body(org, "a@example.com").dump(),
                          "text/plain");
        TKA_REQUIRE_ERROR(r, 415, "unsupported_media_type", tokend);
        r = post_raw(client, "/v2/tokens/create", "organization_id=x",
                     "application/x-www-form-urlencoded");
        TKA_REQUIRE_ERROR(r, 415, "unsupported_media_type", tokend);
    }
    SECTION("JSON with a charset parameter is fine") {
        auto r = post_raw(client, "/v2/tokens/create", create_body(org, "a@example.com").dump(),
                          "application/json; charset=utf-8");
        TKA_REQUIRE_STATUS(r, 200, tokend);
    }
    SECTION("unknown fields are ignored") {
        json body = create_body(org, "a@example.com");
        body["something_new"] = {{"nested", true}};
        auto r = post_json(client, "/v2/tokens/create", body);
        TKA_REQUIRE_STATUS(r, 200, tokend);
    }
}

TEST_CASE("waiting for 1 replica without a replica: 503 saying the write was not confirmed",
          "[tokend][create]") {
    RedisServer redis;
    Tokend tokend(redis.url(), {"--redis-wait-replicas", "1", "--redis-wait-ms", "100"});
    TestOrg org = make_org(redis, 3600);
    auto client = tokend.client();

    auto r = post_json(client, "/v2/tokens/create", create_body(org, "user@example.com"));
    TKA_REQUIRE_ERROR(r, 503, "temporarily_unavailable", tokend);
    CHECK(r.json["error_description"] ==
          "the write was not confirmed by 1 replica within 100 ms (0 acknowledged)");
}
