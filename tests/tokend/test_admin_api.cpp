// The operator dashboard's JSON admin API and its listener (docs/dashboard.md), against a
// real Redis and a real tokend: nothing without a session, no state change without the
// session's CSRF token or from another origin, sign-in throttling, session expiry and
// sign-out, every action with its validation errors and its effect on the public token API,
// and audit lines that never hold a secret.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "tests/tokend/admin_harness.hpp"

using namespace tka::test;
using nlohmann::json;

namespace {

// A signed-in client of a fresh tokend.
struct Dashboard {
    RedisServer redis;
    AdminTokend tokend;
    tka::NewAdmin admin;
    AdminClient client;

    explicit Dashboard(std::vector<std::string> extra = {})
        : tokend(redis, std::move(extra)),
          admin(make_admin(redis, "alice")),
          client(tokend.admin_port()) {
        auto r = client.login(admin.name, admin.password);
        TKA_REQUIRE_STATUS(r, 200, tokend);
    }

    // A token from the public listener.
    Reply mint(const std::string& org_id, const std::string& key, const std::string& email) {
        auto pub = tokend.client();
        return post_json(pub, "/v2/tokens/create", create_body({org_id, key, 0}, email));
    }
};

json org_body(const std::string& name) {
    return {{"name", name}, {"ttl", 3600}, {"token_auth", true}};
}

}  // namespace

TEST_CASE("admin API: every route answers 401 without a session", "[tokend][admin]") {
    RedisServer redis;
    AdminTokend tokend(redis);
    AdminClient client(tokend.admin_port());
    const std::string org = "/admin/api/orgs/org_aaaaaaaaaaaa";
    const std::vector<std::pair<std::string, std::string>> routes = {
        {"POST", "/admin/api/logout"},
        {"GET", "/admin/api/session"},
        {"GET", "/admin/api/orgs"},
        {"POST", "/admin/api/orgs"},
        {"GET", org},
        {"PATCH", org},
        {"GET", org + "/keys"},
        {"POST", org + "/keys"},
        {"POST", org + "/keys/import"},
        {"DELETE", org + "/keys/key_aaaaaaaaaaaa"},
        {"GET", org + "/tokens"},
        {"POST", org + "/tokens/00000000-0000-4000-8000-000000000000/revoke"},
        {"POST", org + "/users/revoke"},
        {"GET", "/admin/api/brokers"},
        {"GET", "/admin/api/usage"},
    };
    for (const auto& [method, path] : routes) {
        INFO(method << " " << path);
        auto r = client.send(method, path, "{}", "application/json");
        TKA_REQUIRE_ERROR(r, 401, "unauthorized", tokend);
        check_admin_headers(r);
    }
    // A made-up cookie is no session either.
    client.cookie = "not-a-session";
    TKA_REQUIRE_ERROR(client.api("GET", "/admin/api/orgs"), 401, "unauthorized", tokend);
}

TEST_CASE("admin API: the public listener never serves admin paths", "[tokend][admin]") {
    Dashboard d;
    auto pub = d.tokend.client();
    for (const std::string path : {"/", "/login", "/orgs", "/admin/api/login", "/admin/api/orgs",
                                   "/admin/api/session", "/assets/dashboard.css", "/usage"}) {
        INFO(path);
        TKA_REQUIRE_ERROR(get(pub, path), 404, "not_found", d.tokend);
        auto r = to_reply(pub.post(path, json({{"name", "alice"}}).dump(), "application/json",
                                   {{"Cookie", "tka_admin=" + d.client.cookie}}));
        TKA_REQUIRE_ERROR(r, 404, "not_found", d.tokend);
    }
    // And the admin listener does not mint tokens.
    auto r = d.client.send("POST", "/v2/tokens/create", "{}", "application/json");
    CHECK(r.status == 404);
}

TEST_CASE("admin API: sign-in, cookie flags, session, sign-out", "[tokend][admin]") {
    RedisServer redis;
    AdminTokend tokend(redis);
    auto admin = make_admin(redis, "alice");
    AdminClient client(tokend.admin_port());

    SECTION("a wrong password or an unknown name is 401, without a cookie") {
        auto r = client.login("alice", admin.password + "x");
        TKA_REQUIRE_ERROR(r, 401, "wrong_credentials", tokend);
        CHECK_FALSE(r.headers.count("Set-Cookie"));
        TKA_REQUIRE_ERROR(client.login("nobody", admin.password), 401, "wrong_credentials", tokend);
        TKA_REQUIRE_ERROR(client.login("", ""), 401, "wrong_credentials", tokend);
        auto bad = client.send("POST", "/admin/api/login", "name=alice", "text/plain");
        CHECK(bad.status == 415);
        bad = client.send("POST", "/admin/api/login", "[1]", "application/json");
        TKA_REQUIRE_ERROR(bad, 400, "invalid_request", tokend);
    }

    SECTION("sign-in sets an HttpOnly SameSite=Strict cookie for /, not Secure on plain HTTP") {
        auto r = client.login("alice", admin.password);
        TKA_REQUIRE_STATUS(r, 200, tokend);
        check_admin_headers(r);
        CHECK(r.json["admin"] == "alice");
        CHECK(r.json["csrf"].get<std::string>().size() >= 32);
        const std::string set_cookie = r.header("Set-Cookie");
        CHECK(set_cookie.rfind("tka_admin=", 0) == 0);
        CHECK(set_cookie.find("; Path=/") != std::string::npos);
        CHECK(set_cookie.find("; HttpOnly") != std::string::npos);
        CHECK(set_cookie.find("; SameSite=Strict") != std::string::npos);
        CHECK(set_cookie.find("Secure") == std::string::npos);
        CHECK(client.cookie.size() >= 32);

        auto session = client.api("GET", "/admin/api/session");
        TKA_REQUIRE_STATUS(session, 200, tokend);
        CHECK(session.json == json({{"admin", "alice"}, {"csrf", client.csrf}}));

        const std::string old_cookie = client.cookie;
        auto out = client.api("POST", "/admin/api/logout");
        TKA_REQUIRE_STATUS(out, 200, tokend);
        CHECK(out.json == json::object());
        CHECK(out.header("Set-Cookie").find("Max-Age=0") != std::string::npos);
        CHECK(client.cookie.empty());
        // The old cookie no longer opens anything: the session ended in Redis.
        client.cookie = old_cookie;
        TKA_REQUIRE_ERROR(client.api("GET", "/admin/api/session"), 401, "unauthorized", tokend);
    }

    SECTION("a deleted account is signed out at its next request") {
        TKA_REQUIRE_STATUS(client.login("alice", admin.password), 200, tokend);
        TKA_REQUIRE_STATUS(client.api("GET", "/admin/api/orgs"), 200, tokend);
        {
            tka::RedisConnection conn = redis.connect();
            tka::AdminStore(conn).remove("alice");
        }
        TKA_REQUIRE_ERROR(client.api("GET", "/admin/api/orgs"), 401, "unauthorized", tokend);
    }
}

TEST_CASE("admin API: a session unused for the idle timeout ends", "[tokend][admin]") {
    RedisServer redis;
    AdminTokend tokend(redis, {"--admin-session-idle-seconds", "1"});
    auto admin = make_admin(redis, "alice");
    AdminClient client(tokend.admin_port());
    TKA_REQUIRE_STATUS(client.login("alice", admin.password), 200, tokend);
    TKA_REQUIRE_STATUS(client.api("GET", "/admin/api/session"), 200, tokend);
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    TKA_REQUIRE_ERROR(client.api("GET", "/admin/api/session"), 401, "unauthorized", tokend);
}

TEST_CASE("admin API: state changes need the session's CSRF token and a matching Origin",
          "[tokend][admin]") {
    Dashboard d;
    const std::string csrf = d.client.csrf;

    d.client.csrf.clear();
    TKA_REQUIRE_ERROR(d.client.api("POST", "/admin/api/orgs", org_body("Acme")), 403, "csrf_failed",
                      d.tokend);
    d.client.csrf = csrf.substr(0, csrf.size() - 1) + (csrf.back() == 'A' ? "B" : "A");
    TKA_REQUIRE_ERROR(d.client.api("POST", "/admin/api/orgs", org_body("Acme")), 403, "csrf_failed",
                      d.tokend);
    TKA_REQUIRE_ERROR(d.client.api("POST", "/admin/api/logout"), 403, "csrf_failed", d.tokend);
    d.client.csrf = csrf;

    const std::string host = "127.0.0.1:" + std::to_string(d.tokend.admin_port());
    d.client.headers.emplace("Origin", "http://evil.example");
    TKA_REQUIRE_ERROR(d.client.api("POST", "/admin/api/orgs", org_body("Acme")), 403,
                      "origin_mismatch", d.tokend);
    d.client.headers.erase("Origin");
    d.client.headers.emplace("Origin", "null");
    TKA_REQUIRE_ERROR(d.client.api("POST", "/admin/api/orgs", org_body("Acme")), 403,
                      "origin_mismatch", d.tokend);
    d.client.headers.erase("Origin");
    d.client.headers.emplace("Origin", "http://" + host);
    TKA_REQUIRE_STATUS(d.client.api("POST", "/admin/api/orgs", org_body("Acme")), 201, d.tokend);

    // Nothing was created by the refused requests.
    auto orgs = d.client.api("GET", "/admin/api/orgs");
    TKA_REQUIRE_STATUS(orgs, 200, d.tokend);
    CHECK(orgs.json.size() == 1);
}

TEST_CASE("admin API: failed sign-ins are throttled per name and per address", "[tokend][admin]") {
    RedisServer redis;
    AdminTokend tokend(
        redis, {"--trusted-proxy", "127.0.0.1/32", "--client-address-header", "X-Forwarded-For"});
    auto admin = make_admin(redis, "alice");
    AdminClient client(tokend.admin_port());
    auto from = [&](const std::string& address) {
        client.headers.erase("X-Forwarded-For");
        client.headers.emplace("X-Forwarded-For", address);
    };

    SECTION("per name: guesses from many addresses block the name, not the addresses") {
        int attempt = 0;
        Reply r;
        for (; attempt < 12; ++attempt) {
            from("10.0.0." + std::to_string(attempt + 1));
            r = client.login("alice", "wrong-password");
            if (r.status != 401) {
                break;
            }
        }
        INFO("attempts: " << attempt);
        TKA_REQUIRE_ERROR(r, 429, "too_many_attempts", tokend);
        CHECK(attempt <= 8);
        CHECK(std::stoi(r.header("Retry-After")) >= 1);
        CHECK(r.json["error_description"].get<std::string>().find("try again in") !=
              std::string::npos);
        // Even the right password waits; another name from a fresh address does not.
        from("10.0.9.9");
        TKA_REQUIRE_ERROR(client.login("alice", admin.password), 429, "too_many_attempts", tokend);
        TKA_REQUIRE_ERROR(client.login("bob", "wrong"), 401, "wrong_credentials", tokend);
    }

    SECTION("per address: guesses at many names block the address") {
        from("10.1.1.1");
        int attempt = 0;
        Reply r;
        for (; attempt < 16; ++attempt) {
            r = client.login("name" + std::to_string(attempt), "wrong-password");
            if (r.status != 401) {
                break;
            }
        }
        INFO("attempts: " << attempt);
        TKA_REQUIRE_ERROR(r, 429, "too_many_attempts", tokend);
        CHECK(attempt <= 12);
        CHECK(std::stoi(r.header("Retry-After")) >= 1);
        TKA_REQUIRE_ERROR(client.login("alice", admin.password), 429, "too_many_attempts", tokend);
        // Another address signs in as usual.
        from("10.1.1.2");
        TKA_REQUIRE_STATUS(client.login("alice", admin.password), 200, tokend);
    }
}

TEST_CASE("admin API: organizations: create, read, change, with tokenctl's validation",
          "[tokend][admin]") {
    Dashboard d;
    auto& c = d.client;

    SECTION("names, TTLs and token_auth are validated") {
        const std::vector<json> bad = {
            {{"name", "Evil\xE2\x80\xAEgro"}},                // U+202E
            {{"name", "line\nbreak"}},                        // control character
            {{"name", ""}},                                   // empty
            {{"name", " padded"}},                            // leading space
            {{"name", std::string(129, 'a')}},                // too long
            {{"name", 42}},                                   // not a string
            {{"ttl", 3600}},                                  // no name
            {{"name", "Acme"}, {"ttl", 0}},                   // below 1 s
            {{"name", "Acme"}, {"ttl", 30 * 24 * 3600 + 1}},  // above 30 days
            {{"name", "Acme"}, {"ttl", 1.5}},
            {{"name", "Acme"}, {"ttl", "3600"}},
            {{"name", "Acme"}, {"token_auth", "on"}},
        };
        for (const auto& body : bad) {
            INFO(body.dump());
            TKA_REQUIRE_ERROR(c.api("POST", "/admin/api/orgs", body), 400, "invalid_request",
                              d.tokend);
        }
        TKA_REQUIRE_STATUS(
            c.send("POST", "/admin/api/orgs", "{", "application/json", {{"X-CSRF-Token", c.csrf}}),
            400, d.tokend);
        CHECK(c.send("POST", "/admin/api/orgs", "name=Acme", "application/x-www-form-urlencoded",
                     {{"X-CSRF-Token", c.csrf}})
                  .status == 415);
        auto orgs = c.api("GET", "/admin/api/orgs");
        CHECK(orgs.json == json::array());
    }

    SECTION("create shows the secret key once; list, get and patch use tokenctl's shapes") {
        auto created = c.api("POST", "/admin/api/orgs",
                             {{"name", "Acme <Ops> & Co"}, {"ttl", 120}, {"token_auth", true}});
        TKA_REQUIRE_STATUS(created, 201, d.tokend);
        const std::string org = created.json["organization_id"];
        const std::string key = created.json["secret_key"];
        CHECK(created.json["name"] == "Acme <Ops> & Co");
        CHECK(created.json["ttl"] == 120);
        CHECK(created.json["token_auth"] == true);
        CHECK(key.rfind("sk_", 0) == 0);

        auto list = c.api("GET", "/admin/api/orgs");
        TKA_REQUIRE_STATUS(list, 200, d.tokend);
        REQUIRE(list.json.size() == 1);
        CHECK(list.json[0]["organization_id"] == org);
        CHECK_FALSE(list.json[0].contains("secret_key"));
        CHECK(list.body.find(key) == std::string::npos);

        auto one = c.api("GET", "/admin/api/orgs/" + org);
        TKA_REQUIRE_STATUS(one, 200, d.tokend);
        CHECK(one.json == list.json[0]);
        TKA_REQUIRE_ERROR(c.api("GET", "/admin/api/orgs/org_zzzzzzzzzzzz"), 404, "not_found",
                          d.tokend);
        TKA_REQUIRE_ERROR(c.api("GET", "/admin/api/orgs/nonsense"), 404, "not_found", d.tokend);

        // The TTL is the one the next token gets from the public listener.
        auto token = d.mint(org, key, "a@example.com");
        TKA_REQUIRE_STATUS(token, 200, d.tokend);
        CHECK(token.json["expires_in"] == 120);
        auto patched = c.api("PATCH", "/admin/api/orgs/" + org, {{"ttl", 600}});
        TKA_REQUIRE_STATUS(patched, 200, d.tokend);
        CHECK(patched.json["ttl"] == 600);
        token = d.mint(org, key, "a@example.com");
        TKA_REQUIRE_STATUS(token, 200, d.tokend);
        CHECK(token.json["expires_in"] == 600);

        // Token auth off: the public listener refuses to mint; on again: it mints.
        patched = c.api("PATCH", "/admin/api/orgs/" + org, {{"token_auth", false}});
        TKA_REQUIRE_STATUS(patched, 200, d.tokend);
        CHECK(patched.json["token_auth"] == false);
        CHECK(d.mint(org, key, "a@example.com").status == 403);
        TKA_REQUIRE_STATUS(c.api("PATCH", "/admin/api/orgs/" + org, {{"token_auth", true}}), 200,
                           d.tokend);
        TKA_REQUIRE_STATUS(d.mint(org, key, "a@example.com"), 200, d.tokend);

        for (const json& bad :
             {json::object(), json({{"ttl", 0}}), json({{"ttl", 30 * 24 * 3600 + 1}}),
              json({{"token_auth", "off"}})}) {
            INFO(bad.dump());
            TKA_REQUIRE_ERROR(c.api("PATCH", "/admin/api/orgs/" + org, bad), 400, "invalid_request",
                              d.tokend);
        }
        TKA_REQUIRE_ERROR(c.api("PATCH", "/admin/api/orgs/org_zzzzzzzzzzzz", {{"ttl", 60}}), 404,
                          "not_found", d.tokend);
    }
}

TEST_CASE("admin API: keys: create, import, list, revoke, each seen by the token API",
          "[tokend][admin]") {
    Dashboard d;
    auto& c = d.client;
    auto created = c.api("POST", "/admin/api/orgs", org_body("Keys Inc"));
    TKA_REQUIRE_STATUS(created, 201, d.tokend);
    const std::string org = created.json["organization_id"];
    const std::string keys = "/admin/api/orgs/" + org + "/keys";

    auto key = c.api("POST", keys);
    TKA_REQUIRE_STATUS(key, 201, d.tokend);
    const std::string key_id = key.json["key_id"];
    const std::string secret = key.json["secret_key"];
    TKA_REQUIRE_STATUS(d.mint(org, secret, "a@example.com"), 200, d.tokend);

    const std::string legacy = "cs_LegacyKey_0123456789abcdef";
    auto imported = c.api("POST", keys + "/import", {{"secret_key", legacy}});
    TKA_REQUIRE_STATUS(imported, 201, d.tokend);
    CHECK(imported.json.size() == 1);
    CHECK(imported.body.find(legacy) == std::string::npos);
    TKA_REQUIRE_STATUS(d.mint(org, legacy, "b@example.com"), 200, d.tokend);
    TKA_REQUIRE_ERROR(c.api("POST", keys + "/import", {{"secret_key", legacy}}), 409, "conflict",
                      d.tokend);
    auto bad = c.api("POST", keys + "/import", {{"secret_key", "sk_not_a_legacy_key"}});
    TKA_REQUIRE_ERROR(bad, 400, "invalid_request", d.tokend);
    CHECK(bad.body.find("sk_not_a_legacy_key") == std::string::npos);

    auto list = c.api("GET", keys);
    TKA_REQUIRE_STATUS(list, 200, d.tokend);
    CHECK(list.json.size() == 3);  // the first key, the new one, the imported one
    CHECK(list.body.find(secret) == std::string::npos);

    auto revoked = c.api("DELETE", keys + "/" + key_id);
    TKA_REQUIRE_STATUS(revoked, 200, d.tokend);
    CHECK(revoked.json == json({{"revoked", key_id}}));
    TKA_REQUIRE_ERROR(d.mint(org, secret, "a@example.com"), 401, "invalid_client", d.tokend);
    TKA_REQUIRE_ERROR(c.api("DELETE", keys + "/" + key_id), 404, "not_found", d.tokend);
    TKA_REQUIRE_ERROR(c.api("DELETE", keys + "/key_zzzzzzzzzzzz"), 404, "not_found", d.tokend);
    CHECK(c.api("GET", keys).json.size() == 2);
}

TEST_CASE("admin API: tokens: list, filter by e-mail, revoke one, revoke a user",
          "[tokend][admin]") {
    Dashboard d;
    auto& c = d.client;
    auto created = c.api("POST", "/admin/api/orgs", org_body("Tokens Ltd"));
    TKA_REQUIRE_STATUS(created, 201, d.tokend);
    const std::string org = created.json["organization_id"];
    const std::string key = created.json["secret_key"];
    const std::string base = "/admin/api/orgs/" + org;
    auto a = d.mint(org, key, "ann@example.com");
    auto b1 = d.mint(org, key, "bob@example.com");
    REQUIRE(a.status == 200);
    REQUIRE(b1.status == 200);

    auto all = c.api("GET", base + "/tokens");
    TKA_REQUIRE_STATUS(all, 200, d.tokend);
    CHECK(all.json.size() == 2);
    CHECK(all.body.find(a.json["access_token"].get<std::string>()) == std::string::npos);
    auto ann = c.api("GET", base + "/tokens?email=Ann%40Example.com");
    TKA_REQUIRE_STATUS(ann, 200, d.tokend);
    REQUIRE(ann.json.size() == 1);
    CHECK(ann.json[0]["token_id"] == a.json["token_id"]);
    TKA_REQUIRE_ERROR(c.api("GET", base + "/tokens?email=not-an-address"), 400, "invalid_request",
                      d.tokend);
    TKA_REQUIRE_ERROR(c.api("GET", base + "/tokens?email=%zz"), 400, "invalid_request", d.tokend);

    // Revoke one token: refreshing it fails on the public listener.
    const std::string a_id = a.json["token_id"];
    auto revoked = c.api("POST", base + "/tokens/" + a_id + "/revoke");
    TKA_REQUIRE_STATUS(revoked, 200, d.tokend);
    CHECK(revoked.json == json({{"revoked", json::array({a_id})}}));
    auto pub = d.tokend.client();
    auto refresh = post_json(pub, "/v2/tokens/refresh", refresh_body(a.json));
    CHECK((refresh.status == 410 || refresh.status == 401));
    // Again: nothing left to revoke.
    auto again = c.api("POST", base + "/tokens/" + a_id + "/revoke");
    TKA_REQUIRE_STATUS(again, 200, d.tokend);
    CHECK(again.json == json({{"revoked", json::array()}}));
    TKA_REQUIRE_ERROR(c.api("POST", base + "/tokens/00000000-0000-4000-8000-000000000000/revoke"),
                      404, "not_found", d.tokend);

    // Revoke every token of a user.
    auto b2 = d.mint(org, key, "bob@example.com");
    REQUIRE(b2.status == 200);
    TKA_REQUIRE_ERROR(c.api("POST", base + "/users/revoke", {{"email", "nope"}}), 400,
                      "invalid_request", d.tokend);
    auto users = c.api("POST", base + "/users/revoke", {{"email", "BOB@example.com"}});
    TKA_REQUIRE_STATUS(users, 200, d.tokend);
    CHECK(users.json["revoked"].size() >= 1);
    refresh = post_json(pub, "/v2/tokens/refresh", refresh_body(b2.json));
    CHECK((refresh.status == 410 || refresh.status == 401));
}

TEST_CASE("admin API: brokers, usage, bodies over 16 KiB, unknown paths and methods",
          "[tokend][admin]") {
    Dashboard d;
    auto& c = d.client;
    auto brokers = c.api("GET", "/admin/api/brokers");
    TKA_REQUIRE_STATUS(brokers, 200, d.tokend);
    CHECK(brokers.json["replicas"].is_array());
    auto usage = c.api("GET", "/admin/api/usage");
    TKA_REQUIRE_STATUS(usage, 200, d.tokend);
    CHECK(usage.json["interval_seconds"] == 10);
    CHECK(usage.json["series"].is_array());

    auto big = c.api("POST", "/admin/api/orgs", {{"name", std::string(17 * 1024, 'a')}});
    CHECK(big.status == 413);
    check_admin_headers(big);
    AdminClient fresh(d.tokend.admin_port());
    fresh.cookie = c.cookie;
    fresh.csrf = c.csrf;
    TKA_REQUIRE_ERROR(fresh.api("GET", "/admin/api/nothing"), 404, "not_found", d.tokend);
    auto wrong = fresh.api("PUT", "/admin/api/orgs");
    TKA_REQUIRE_STATUS(wrong, 405, d.tokend);
    CHECK(wrong.header("Allow") == "GET, HEAD, POST");

    // The dashboard's requests are not token requests: the token API's metrics (and the
    // usage page drawn from them) do not count them.
    auto pub = d.tokend.client();
    auto metrics = get(pub, "/metrics");
    TKA_REQUIRE_STATUS(metrics, 200, d.tokend);
    CHECK(metrics.body.find("route=\"other\"") == std::string::npos);
}

TEST_CASE("admin API: every action leaves an audit line without any secret", "[tokend][admin]") {
    Dashboard d;
    auto& c = d.client;
    auto created = c.api("POST", "/admin/api/orgs", org_body("Audited"));
    TKA_REQUIRE_STATUS(created, 201, d.tokend);
    const std::string org = created.json["organization_id"];
    const std::string first_key = created.json["secret_key"];
    TKA_REQUIRE_STATUS(c.api("PATCH", "/admin/api/orgs/" + org, {{"token_auth", false}}), 200,
                       d.tokend);
    auto key = c.api("POST", "/admin/api/orgs/" + org + "/keys");
    TKA_REQUIRE_STATUS(key, 201, d.tokend);
    const std::string legacy = "cs_AuditedLegacy_0123456789";
    TKA_REQUIRE_STATUS(
        c.api("POST", "/admin/api/orgs/" + org + "/keys/import", {{"secret_key", legacy}}), 201,
        d.tokend);
    TKA_REQUIRE_STATUS(c.api("POST", "/admin/api/orgs", {{"name", "x"}, {"ttl", 0}}), 400,
                       d.tokend);
    TKA_REQUIRE_STATUS(c.login("alice", d.admin.password + "-wrong"), 401, d.tokend);
    const std::string cookie = c.cookie;
    const std::string csrf = c.csrf;
    TKA_REQUIRE_STATUS(c.api("POST", "/admin/api/logout"), 200, d.tokend);

    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::string log = d.tokend.log();
    INFO(log);
    int lines = 0;
    std::set<std::string> seen;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        auto j = json::parse(line, nullptr, false);
        if (!j.is_object() || !j.contains("admin_action")) {
            continue;
        }
        ++lines;
        seen.insert(j["admin_action"].get<std::string>() + ":" + j["outcome"].get<std::string>());
        CHECK(j.contains("remote"));
    }
    CHECK(seen.count("login:ok"));
    CHECK(seen.count("login:wrong_credentials"));
    CHECK(seen.count("org.create:ok"));
    CHECK(seen.count("org.create:invalid_request"));
    CHECK(seen.count("org.update:ok"));
    CHECK(seen.count("key.create:ok"));
    CHECK(seen.count("key.import:ok"));
    CHECK(seen.count("logout:ok"));
    CHECK(lines >= 8);
    CHECK(log.find("\"org_id\":\"" + org + "\"") != std::string::npos);
    CHECK(log.find("\"token_auth\":false") != std::string::npos);
    for (const std::string& secret :
         {d.admin.password, first_key, key.json["secret_key"].get<std::string>(), legacy, cookie,
          csrf}) {
        CHECK(log.find(secret) == std::string::npos);
    }
}

TEST_CASE("admin API: on a TLS listener the cookie is Secure", "[tokend][admin][tls]") {
    RedisServer redis;
    TempDir dir;
    TlsFiles tls = make_tls_files(dir);
    AdminTokend tokend(redis, {"--tls-cert", tls.cert, "--tls-key", tls.key});
    auto admin = make_admin(redis, "alice");
    HttpClientOptions options;
    options.tls = true;
    options.ca_file = tls.cert;
    AdminClient client(tokend.admin_port(), options);
    auto r = client.login("alice", admin.password);
    TKA_REQUIRE_STATUS(r, 200, tokend);
    CHECK(r.header("Set-Cookie").find("; Secure") != std::string::npos);
    TKA_REQUIRE_STATUS(client.api("GET", "/admin/api/orgs"), 200, tokend);
    CHECK(tokend.log().find("\"url\":\"https://127.0.0.1:" + std::to_string(tokend.admin_port()) +
                            "/\"") != std::string::npos);
}

// What a user sees: token creates are answered while the admin workers are busy hashing.
// How long they take beside sign-ins is a benchmark's question, not this test's
// (no timed assertion here; the slowest create is reported as information).
TEST_CASE("admin API: token creates are answered while sign-ins keep the admin workers busy",
          "[tokend][admin]") {
    RedisServer redis;
    // Two token workers: were sign-ins queued on them, every create would wait behind one.
    AdminTokend tokend(redis, {"--threads", "2", "--trusted-proxy", "127.0.0.1/32",
                               "--client-address-header", "X-Forwarded-For"});
    make_admin(redis, "alice");
    TestOrg org = make_org(redis);

    std::atomic<bool> stop{false};
    std::atomic<int> logins{0};
    std::vector<std::thread> guessers;
    for (int t = 0; t < 4; ++t) {
        guessers.emplace_back([&, t] {
            AdminClient client(tokend.admin_port());
            for (int i = 0; !stop && i < 40; ++i) {
                client.headers.erase("X-Forwarded-For");
                client.headers.emplace("X-Forwarded-For",
                                       "10.9." + std::to_string(t) + "." + std::to_string(i));
                client.login("guess" + std::to_string(t * 100 + i), "wrong");
                ++logins;
            }
        });
    }
    // The admin workers are busy hashing once the first sign-ins have come back.
    const auto busy_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (logins.load() < 2 && std::chrono::steady_clock::now() < busy_by) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(logins.load() >= 2);
    auto client = tokend.client();
    double worst_ms = 0;
    for (int i = 0; i < 10; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = post_json(client, "/v2/tokens/create", create_body(org, "a@example.com"));
        const double took =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        TKA_REQUIRE_STATUS(r, 200, tokend);
        worst_ms = std::max(worst_ms, took);
    }
    const int during = logins.load();
    const bool still_busy = during < 160;
    stop = true;
    for (auto& g : guessers) {
        g.join();
    }
    INFO("slowest create " << worst_ms << " ms while " << during << " sign-ins ran");
    CHECK(still_busy);
}
