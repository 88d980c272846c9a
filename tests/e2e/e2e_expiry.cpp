// Expiry: a connection lives exactly as long as its token: it is closed within 1 s after
// the token's expires_at (wall clock, as IssuedToken reports it) and not before, and the
// expired token no longer connects.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("a connection is closed within 1 s after its token expires, not before",
          "[e2e][expiry][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto token = backend.mint(org, "alice@example.com");
    REQUIRE(token.ttl == 2);

    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice-phone", token) == 0);
    check_closed_in_window(client, steady_at(token.expires_at));

    MqttClient again;
    const int rc = connect_with(again, broker.port(), "alice-phone", token);
    INFO("reconnect with the expired token: CONNACK " << rc);
    CHECK(refused(rc));
}

TEST_CASE("connections with other tokens outlive an expired one", "[e2e][expiry]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto short_org = backend.org("short", 2);
    const auto long_org = backend.org("long", 3600);
    const auto brief = backend.mint(short_org, "alice@example.com");
    const auto lasting = backend.mint(long_org, "bob@example.com");

    MqttClient a;
    MqttClient b;
    REQUIRE(connect_with(a, broker.port(), "a", brief) == 0);
    REQUIRE(connect_with(b, broker.port(), "b", lasting) == 0);

    REQUIRE(a.wait_disconnected(until(steady_at(brief.expires_at)) + 5s).has_value());
    // One more close window after the kick: b must still be up.
    CHECK_FALSE(b.wait_disconnected(kCloseWindow).has_value());
    CHECK(b.connected());
}
