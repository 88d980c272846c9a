// Refresh: TokenStore::refresh moves a live connection's deadline to the new expires_at
// (the device need not reconnect), the old password stops working for new connects, and a
// refresh whose answer was lost is retried into the new password.
#include <catch2/catch.hpp>

#include "common/crypto.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/reply_dropping_proxy.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("a refresh keeps the live connection open until the new expiry",
          "[e2e][refresh][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto first = backend.mint(org, "alice@example.com");

    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice-phone", first) == 0);

    // A longer TTL for the refreshed token, so both deadlines are clearly apart.
    backend.orgs.update(org.org_id, 4, std::nullopt);
    const auto second = backend.tokens.refresh(first.token_id, first.password, unix_now());
    REQUIRE(second.token_id == first.token_id);
    REQUIRE(second.expires_at >= first.expires_at + 2);

    // Past the old deadline plus the whole close window: still connected.
    const auto old_deadline = steady_at(first.expires_at) + kCloseWindow + 300ms;
    CHECK_FALSE(client.wait_disconnected(until(old_deadline)).has_value());
    CHECK(client.connected());

    check_closed_in_window(client, steady_at(second.expires_at));
}

// [consistency]: read-your-writes, left out of the cache-on run (tests/e2e/CMakeLists.txt).
TEST_CASE("after a refresh the old password is refused and the new one accepted",
          "[e2e][refresh][consistency]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto first = backend.mint(org, "alice@example.com");
    const auto second = backend.tokens.refresh(first.token_id, first.password, unix_now());
    REQUIRE(second.password != first.password);

    MqttClient client;
    const int rc = connect_with(client, broker.port(), "alice-phone", first);
    INFO("old password: CONNACK " << rc);
    CHECK(refused(rc));
    CHECK(connect_with(client, broker.port(), "alice-phone", second) == 0);
}

TEST_CASE("a refresh shortly before expiry still keeps the connection", "[e2e][refresh]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto first = backend.mint(org, "alice@example.com");
    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice-phone", first) == 0);
    backend.orgs.update(org.org_id, 4, std::nullopt);

    // The device refreshes 300 ms before its token lapses (still a valid refresh).
    const auto old_expiry = steady_at(first.expires_at);
    REQUIRE_FALSE(client.wait_disconnected(until(old_expiry - 300ms)).has_value());
    const auto second = backend.tokens.refresh(first.token_id, first.password, unix_now());
    REQUIRE(Clock::now() < old_expiry);

    CHECK_FALSE(client.wait_disconnected(until(old_expiry + kCloseWindow + 300ms)).has_value());
    CHECK(client.connected());
    check_closed_in_window(client, steady_at(second.expires_at));
}

// Redis applies the refresh but its answer never reaches the store (the proxy drops it):
// the store sends the same refresh again and gets the new password, which the broker takes.
TEST_CASE("a refresh whose answer was lost still yields a password the broker accepts",
          "[e2e][refresh][consistency]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    test::ReplyDroppingProxy proxy(backend.redis.port());
    RedisOptions options = backend.redis.options();
    options.endpoint = parse_redis_url(proxy.url());
    options.command_timeout = 300ms;
    RedisConnection via_proxy(options);

    const auto org = backend.org("acme", 3600);
    // Redis caches the script on its first use; from then on a refresh is one EVALSHA.
    const auto warm = backend.mint(org, "warm@example.com");
    backend.tokens.refresh(warm.token_id, warm.password, unix_now());
    const auto first = backend.mint(org, "alice@example.com");
    proxy.drop_replies_after(crypto::sha256_bytes(first.password));
    const auto second = TokenStore(via_proxy).refresh(first.token_id, first.password, unix_now());
    INFO("dropped: " << proxy.dropped());
    REQUIRE(proxy.dropped().rfind("*5\r\n$2\r\nok\r\n", 0) == 0);

    MqttClient client;
    const int rc = connect_with(client, broker.port(), "alice-phone", first);
    INFO("old password: CONNACK " << rc);
    CHECK(refused(rc));
    CHECK(connect_with(client, broker.port(), "alice-phone", second) == 0);
}
