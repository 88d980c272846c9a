// A fleet: two brokers sharing one Redis. Events reach every broker, so a revocation
// closes the token's connections on both, and each broker enforces expiry on its own.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("two brokers on one Redis: a revoke closes the connection on both", "[e2e][fleet]") {
    Backend backend;
    MosquittoBroker east(token_broker(backend.redis));
    MosquittoBroker west(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    const auto bob = backend.mint(org, "bob@example.com");

    MqttClient on_east;
    MqttClient on_west;
    MqttClient bob_west;
    REQUIRE(connect_with(on_east, east.port(), "alice-phone", alice) == 0);
    REQUIRE(connect_with(on_west, west.port(), "alice-laptop", alice) == 0);
    REQUIRE(connect_with(bob_west, west.port(), "bob", bob) == 0);

    const auto revoked_at = Clock::now();
    backend.tokens.revoke(org.org_id, alice.token_id, unix_now());
    const auto closed_east = on_east.wait_disconnected(5s);
    const auto closed_west = on_west.wait_disconnected(5s);
    REQUIRE(closed_east.has_value());
    REQUIRE(closed_west.has_value());
    INFO("east closed after " << ms(*closed_east - revoked_at) << " ms, west after "
                              << ms(*closed_west - revoked_at) << " ms");
    CHECK(ms(*closed_east - revoked_at) <= ms(kCloseWindow));
    CHECK(ms(*closed_west - revoked_at) <= ms(kCloseWindow));
    CHECK(bob_west.connected());
}

TEST_CASE("two brokers on one Redis: each closes its connection at expiry", "[e2e][fleet]") {
    Backend backend;
    MosquittoBroker east(token_broker(backend.redis));
    MosquittoBroker west(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto alice = backend.mint(org, "alice@example.com");

    MqttClient on_east;
    MqttClient on_west;
    REQUIRE(connect_with(on_east, east.port(), "alice-phone", alice) == 0);
    REQUIRE(connect_with(on_west, west.port(), "alice-laptop", alice) == 0);

    const auto expires = steady_at(alice.expires_at);
    const auto closed_east = on_east.wait_disconnected(until(expires) + 5s);
    const auto closed_west = on_west.wait_disconnected(until(expires) + 5s);
    REQUIRE(closed_east.has_value());
    REQUIRE(closed_west.has_value());
    INFO("east closed " << ms(*closed_east - expires) << " ms, west " << ms(*closed_west - expires)
                        << " ms after expires_at");
    CHECK((ms(*closed_east - expires) >= 0 && ms(*closed_east - expires) <= ms(kCloseWindow)));
    CHECK((ms(*closed_west - expires) >= 0 && ms(*closed_west - expires) <= ms(kCloseWindow)));
}

TEST_CASE("two brokers on one Redis: a refresh moves the deadline on both", "[e2e][fleet]") {
    Backend backend;
    MosquittoBroker east(token_broker(backend.redis));
    MosquittoBroker west(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto first = backend.mint(org, "alice@example.com");

    MqttClient on_east;
    MqttClient on_west;
    REQUIRE(connect_with(on_east, east.port(), "alice-phone", first) == 0);
    REQUIRE(connect_with(on_west, west.port(), "alice-laptop", first) == 0);

    backend.orgs.update(org.org_id, 4, std::nullopt);
    const auto second = backend.tokens.refresh(first.token_id, first.password, unix_now());
    REQUIRE(second.expires_at >= first.expires_at + 2);

    const auto old_deadline = steady_at(first.expires_at) + kCloseWindow + 300ms;
    CHECK_FALSE(on_east.wait_disconnected(until(old_deadline)).has_value());
    CHECK_FALSE(on_west.wait_disconnected(until(old_deadline)).has_value());

    const auto expires = steady_at(second.expires_at);
    const auto closed_east = on_east.wait_disconnected(until(expires) + 5s);
    const auto closed_west = on_west.wait_disconnected(until(expires) + 5s);
    REQUIRE(closed_east.has_value());
    REQUIRE(closed_west.has_value());
    INFO("east closed " << ms(*closed_east - expires) << " ms, west " << ms(*closed_west - expires)
                        << " ms after the new expires_at");
    CHECK((ms(*closed_east - expires) >= 0 && ms(*closed_east - expires) <= ms(kCloseWindow)));
    CHECK((ms(*closed_west - expires) >= 0 && ms(*closed_west - expires) <= ms(kCloseWindow)));
}
