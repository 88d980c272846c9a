// Failure throttling through a real tokend and a real Redis (docs/http-api.md, "Throttling
// of failed authentication"): a client that floods wrong secret keys or passwords is
// answered 429 with Retry-After from memory, so its guesses stop reaching Redis; other
// clients, and the right key once the block has passed, are served; behind a trusted proxy
// the client is the address the proxy names, and an untrusted peer cannot pick one.
#include <catch2/catch.hpp>

#include <string>

#include "tests/tokend/tokend_harness.hpp"

using namespace tka::test;
using nlohmann::json;

namespace {

// Script calls Redis has served so far (EVAL and EVALSHA): every credential check is one.
long long script_calls(const RedisServer& redis) {
    tka::RedisConnection conn = redis.connect();
    const std::string info = conn.command({"INFO", "commandstats"}).str;
    long long total = 0;
    for (const char* name : {"cmdstat_evalsha:calls=", "cmdstat_eval:calls="}) {
        auto at = info.find(name);
        if (at != std::string::npos) {
            total += std::stoll(info.substr(at + std::string(name).size()));
        }
    }
    return total;
}

json wrong_key(const TestOrg& org) {
    json body = create_body(org, "flood@example.com");
    body["secret_key"] = "sk_WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW";
    return body;
}

}  // namespace

TEST_CASE("a flood of wrong secret keys is throttled before Redis", "[tokend][throttle]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    // No background sweep: its scripts would count as Redis being asked.
    Tokend tokend(redis.url(), {"--auth-fail-threshold", "5", "--auth-fail-penalty-s", "30",
                                "--sweep-interval-ms", "0"});
    auto client = tokend.client();

    int refused = 0;
    for (; refused < 50; ++refused) {
        auto r = post_json(client, "/v2/tokens/create", wrong_key(org));
        if (r.status == 429) {
            break;
        }
        TKA_REQUIRE_ERROR(r, 401, "invalid_client", tokend);
    }
    INFO("401s before the block: " << refused);
    CHECK(refused >= 5);
    CHECK(refused <= 7);

    // Blocked: 429 with Retry-After for wrong and right keys alike, and Redis is not asked.
    const long long before = script_calls(redis);
    for (int i = 0; i < 20; ++i) {
        auto r = post_json(client, "/v2/tokens/create", wrong_key(org));
        TKA_REQUIRE_ERROR(r, 429, "rate_limited", tokend);
        const int retry_after = std::stoi(r.header("Retry-After"));
        CHECK(retry_after >= 1);
        CHECK(retry_after <= 30);
    }
    auto right = post_json(client, "/v2/tokens/create", create_body(org, "a@example.com"));
    TKA_REQUIRE_ERROR(right, 429, "rate_limited", tokend);
    CHECK(script_calls(redis) == before);

    // Health and metrics are never throttled; the block is visible there and in the log.
    TKA_REQUIRE_STATUS(get(client, "/healthz"), 200, tokend);
    auto metrics = get(client, "/metrics");
    CHECK(metrics.body.find("tokend_auth_throttle_blocked{level=\"address\"} 1\n") !=
          std::string::npos);
    CHECK(tokend.log().find("\"event\":\"auth_throttle_block\"") != std::string::npos);
    CHECK(tokend.log().find("WWWWWWWW") == std::string::npos);  // no key in the log
}

TEST_CASE("a flood of wrong refresh passwords is throttled too", "[tokend][throttle]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    Tokend tokend(redis.url(), {"--auth-fail-threshold", "3", "--auth-fail-penalty-s", "30"});
    auto client = tokend.client();
    auto token = post_json(client, "/v2/tokens/create", create_body(org, "r@example.com"));
    TKA_REQUIRE_STATUS(token, 200, tokend);

    json guess = refresh_body(token.json);
    guess["current_token_password"] = "tkn_GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG";
    int status = 0;
    for (int i = 0; i < 10 && status != 429; ++i) {
        status = post_json(client, "/v2/tokens/refresh", guess).status;
    }
    CHECK(status == 429);
    // The right password waits out the block too: the address is what is blocked.
    TKA_REQUIRE_ERROR(post_json(client, "/v2/tokens/refresh", refresh_body(token.json)), 429,
                      "rate_limited", tokend);
}

TEST_CASE("behind a trusted proxy the named client is throttled, not the proxy",
          "[tokend][throttle]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    Tokend tokend(redis.url(),
                  {"--auth-fail-threshold", "3", "--auth-fail-penalty-s", "30", "--trusted-proxy",
                   "127.0.0.1/32", "--client-address-header", "X-Forwarded-For"});
    auto client = tokend.client();
    auto as = [&](const std::string& address, const json& body) {
        return to_reply(client.post("/v2/tokens/create", body.dump(), "application/json",
                                    {{"X-Forwarded-For", address}}));
    };
    int status = 0;
    for (int i = 0; i < 10 && status != 429; ++i) {
        status = as("198.51.100.7", wrong_key(org)).status;
    }
    CHECK(status == 429);
    // Another client behind the same proxy is served; the flooding one stays blocked.
    TKA_REQUIRE_STATUS(as("203.0.113.9", create_body(org, "b@example.com")), 200, tokend);
    TKA_REQUIRE_ERROR(as("198.51.100.7", create_body(org, "c@example.com")), 429, "rate_limited",
                      tokend);
    CHECK(tokend.log().find("\"remote\":\"198.51.100.7\"") != std::string::npos);
}

TEST_CASE("an untrusted peer cannot choose its address with a header", "[tokend][throttle]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    // Only 192.0.2.1 is a trusted proxy: the loopback client's header is ignored.
    Tokend tokend(redis.url(),
                  {"--auth-fail-threshold", "3", "--auth-fail-penalty-s", "30", "--trusted-proxy",
                   "192.0.2.1/32", "--client-address-header", "X-Forwarded-For"});
    auto client = tokend.client();
    int status = 0;
    for (int i = 0; i < 10 && status != 429; ++i) {
        // A new made-up address every time would dodge the throttle if it were believed.
        const std::string fake = "198.51.100." + std::to_string(i + 1);
        status = to_reply(client.post("/v2/tokens/create", wrong_key(org).dump(),
                                      "application/json", {{"X-Forwarded-For", fake}}))
                     .status;
    }
    CHECK(status == 429);
}
