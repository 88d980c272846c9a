// Client-id takeover: a device that reconnects under the same client id with a newer
// token replaces its old session; the plugin must not kick the new connection when the
// old token's deadline passes (connections are tracked per connection, not per client id).
#include <catch2/catch.hpp>

#include <memory>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("a reconnect under the same client id with a newer token is not kicked for the old one",
          "[e2e][takeover][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto old_token = backend.mint(org, "alice@example.com");
    backend.orgs.update(org.org_id, 6, std::nullopt);
    const auto new_token = backend.mint(org, "alice@example.com", false);
    REQUIRE(new_token.expires_at >= old_token.expires_at + 3);

    MqttClient old_session;
    REQUIRE(connect_with(old_session, broker.port(), "alice-phone", old_token) == 0);
    MqttClient new_session;
    REQUIRE(connect_with(new_session, broker.port(), "alice-phone", new_token) == 0);
    // Mosquitto closes the old connection of the client id (takeover).
    REQUIRE(old_session.wait_disconnected(5s).has_value());

    // The old deadline and its close window pass: the new connection stays.
    const auto old_deadline = steady_at(old_token.expires_at) + kCloseWindow + 300ms;
    CHECK_FALSE(new_session.wait_disconnected(until(old_deadline)).has_value());
    CHECK(new_session.connected());

    // And it is closed at its own deadline.
    check_closed_in_window(new_session, steady_at(new_token.expires_at));
}

TEST_CASE("a reconnect under the same client id survives the revocation of the replaced token",
          "[e2e][takeover]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto old_token = backend.mint(org, "alice@example.com");

    MqttClient old_session;
    REQUIRE(connect_with(old_session, broker.port(), "alice-phone", old_token) == 0);
    // The device gets a new token (the old one is replaced) and reconnects at once.
    const auto new_token = backend.mint(org, "alice@example.com", true);
    MqttClient new_session;
    REQUIRE(connect_with(new_session, broker.port(), "alice-phone", new_token) == 0);
    REQUIRE(old_session.wait_disconnected(5s).has_value());

    CHECK_FALSE(new_session.wait_disconnected(kCloseWindow + 300ms).has_value());
    CHECK(new_session.connected());
}

TEST_CASE("a reconnect under the same client id with the same token is closed at its expiry",
          "[e2e][takeover]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto token = backend.mint(org, "alice@example.com");

    MqttClient first;
    REQUIRE(connect_with(first, broker.port(), "alice-phone", token) == 0);
    MqttClient second;
    REQUIRE(connect_with(second, broker.port(), "alice-phone", token) == 0);
    REQUIRE(first.wait_disconnected(5s).has_value());  // taken over

    check_closed_in_window(second, steady_at(token.expires_at));
}

// Connections are tracked by the broker's per-connection handle; handles of closed
// connections are reused for new ones. A deadline must never outlive its connection.
TEST_CASE("connections that reuse a closed connection's slot are not kicked for it",
          "[e2e][takeover]") {
    constexpr int kRounds = 10;
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis, {}, {{"operator", "op-secret"}}));
    const auto short_org = backend.org("short", 3);  // room for the rounds below
    const auto long_org = backend.org("long", 3600);
    const auto brief = backend.mint(short_org, "alice@example.com");

    std::vector<std::unique_ptr<MqttClient>> survivors;
    for (int i = 0; i < kRounds; ++i) {
        MqttClient gone;
        REQUIRE(connect_with(gone, broker.port(), "brief-" + std::to_string(i), brief) == 0);
        gone.disconnect();
        survivors.push_back(std::make_unique<MqttClient>());
        if (i % 2 == 0) {
            const auto lasting = backend.mint(long_org, "dev" + std::to_string(i) + "@example.com");
            REQUIRE(connect_with(*survivors.back(), broker.port(), "lasting-" + std::to_string(i),
                                 lasting) == 0);
        } else {
            REQUIRE(survivors.back()->connect(broker.port(), "op-" + std::to_string(i), "operator",
                                              "op-secret") == 0);
        }
    }
    REQUIRE(Clock::now() < steady_at(brief.expires_at));

    const auto after = steady_at(brief.expires_at) + kCloseWindow + 300ms;
    for (auto& s : survivors) {
        CHECK_FALSE(s->wait_disconnected(until(after)).has_value());
    }
}

// A persistent session (clean session false) outlives its connection in the broker, and
// Mosquitto 2.1 reports its end as MOSQ_EVT_CLIENT_OFFLINE rather than a disconnect: the
// plugin must stop tracking the connection either way, so the device that comes back under
// the same client id with a newer token is not kicked at the old token's deadline.
TEST_CASE("a persistent session that reconnects with a newer token is not kicked for the old one",
          "[e2e][takeover][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto old_token = backend.mint(org, "alice@example.com");
    backend.orgs.update(org.org_id, 6, std::nullopt);
    const auto new_token = backend.mint(org, "alice@example.com", false);
    REQUIRE(new_token.expires_at >= old_token.expires_at + 3);
    const std::string topic = "orgs/" + org.org_id + "/alice";

    {
        MqttClient device;
        device.set_persistent_session(true);
        REQUIRE(connect_with(device, broker.port(), "alice-phone", old_token) == 0);
        REQUIRE(device.subscribe(topic) == 1);
        device.disconnect();  // the session stays in the broker
    }
    MqttClient device;
    device.set_persistent_session(true);
    REQUIRE(connect_with(device, broker.port(), "alice-phone", new_token) == 0);
    // The session was resumed: the subscription made under the old token still delivers.
    MqttClient publisher;
    REQUIRE(connect_with(publisher, broker.port(), "alice-tablet", new_token) == 0);
    REQUIRE(publisher.publish(topic, "resumed"));
    CHECK(device.wait_message(topic, 2s) == std::optional<std::string>("resumed"));
    publisher.disconnect();

    const auto old_deadline = steady_at(old_token.expires_at) + kCloseWindow + 300ms;
    CHECK_FALSE(device.wait_disconnected(until(old_deadline)).has_value());
    CHECK(device.connected());

    check_closed_in_window(device, steady_at(new_token.expires_at));
}
