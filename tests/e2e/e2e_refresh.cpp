// Refresh: TokenStore::refresh moves a live connection's deadline to the new expires_at
// (the device need not reconnect), and the old password stops working for new connects.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

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
