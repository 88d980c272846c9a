// /v2/tokens/refresh when Redis's answer to the refresh is lost: Redis applied it, tokend
// timed out waiting. tokend sends the same refresh again and the client gets the new
// password (200), not a 503 that would leave it with a dead password and no new one.
#include <catch2/catch.hpp>

#include "common/crypto.hpp"
#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "tests/support/reply_dropping_proxy.hpp"
#include "tests/tokend/tokend_harness.hpp"

using namespace tka::test;
using nlohmann::json;

namespace {

// Does Redis accept `token`'s password (as the broker asks it)?
bool authenticates(const RedisServer& redis, const json& token) {
    const std::string username = token["mqtt_credentials"]["username"];
    const auto at = username.find('@');
    tka::RedisConnection conn = redis.connect();
    return tka::TokenStore(conn)
        .authenticate(username.substr(at + 1), username.substr(0, at),
                      token["access_token"].get<std::string>(), tka::unix_now())
        .ok();
}

}  // namespace

TEST_CASE("a refresh whose Redis answer is lost still returns the new password",
          "[tokend][refresh]") {
    RedisServer redis;
    ReplyDroppingProxy proxy(redis.port());
    Tokend tokend(proxy.url(), {"--redis-timeout-ms", "400"});
    TestOrg org = make_org(redis, 600);
    auto client = tokend.client();

    auto created = post_json(client, "/v2/tokens/create", create_body(org, "dev@example.com"));
    TKA_REQUIRE_STATUS(created, 200, tokend);
    // The first refresh also makes Redis cache the script: later ones are one EVALSHA.
    auto first = post_json(client, "/v2/tokens/refresh", refresh_body(created.json));
    TKA_REQUIRE_STATUS(first, 200, tokend);

    // Only the refresh script carries the current password's digest.
    proxy.drop_replies_after(
        tka::crypto::sha256_bytes(first.json["access_token"].get<std::string>()));
    auto second = post_json(client, "/v2/tokens/refresh", refresh_body(first.json));
    TKA_REQUIRE_STATUS(second, 200, tokend);

    // Redis had applied the first attempt and answered "ok"; tokend never saw that answer.
    INFO("dropped: " << proxy.dropped());
    CHECK(proxy.dropped().rfind("*5\r\n$2\r\nok\r\n", 0) == 0);
    CHECK(second.json["token_id"] == first.json["token_id"]);
    CHECK(second.json["access_token"] != first.json["access_token"]);
    CHECK(second.json["expires_in"] == 600);
    CHECK(second.json["user_email"] == "dev@example.com");
    CHECK(authenticates(redis, second.json));
    CHECK_FALSE(authenticates(redis, first.json));
    // The password it replaced stays dead; the one it returned refreshes.
    auto stale = post_json(client, "/v2/tokens/refresh", refresh_body(first.json));
    TKA_REQUIRE_ERROR(stale, 401, "invalid_grant", tokend);
    auto third = post_json(client, "/v2/tokens/refresh", refresh_body(second.json));
    TKA_REQUIRE_STATUS(third, 200, tokend);
}
