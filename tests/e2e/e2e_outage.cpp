// Redis outages: while Redis is down the broker keeps serving password-file users and
// refuses token connects quickly (fail closed, within the plugin's timeout, never hanging
// the broker); when Redis is back, token connects work again without a broker restart.
#include <catch2/catch.hpp>

#include <iostream>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

// Generous for the 200 ms default timeout plus a sanitizer build, far below a hang.
constexpr auto kFastRefusal = 2000ms;

}  // namespace

TEST_CASE("Redis down: token connects are refused fast, password-file users still connect",
          "[e2e][outage]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis, {}, {{"operator", "op-secret"}}));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MqttClient warm;
    REQUIRE(connect_with(warm, broker.port(), "warm", alice) == 0);

    backend.redis.stop();
    for (int attempt = 1; attempt <= 3; ++attempt) {
        MqttClient client;
        const auto started = Clock::now();
        const int rc =
            connect_with(client, broker.port(), "alice-" + std::to_string(attempt), alice);
        const auto took = ms(Clock::now() - started);
        INFO("attempt " << attempt << ": CONNACK " << rc << " after " << took << " ms");
        CHECK(refused(rc));
        CHECK(took < ms(kFastRefusal));
    }

    MqttClient op;
    const auto started = Clock::now();
    CHECK(op.connect(broker.port(), "op", "operator", "op-secret") == 0);
    CHECK(ms(Clock::now() - started) < ms(kFastRefusal));
    CHECK(broker.running());
}

TEST_CASE("Redis restarted: token connects work again without restarting the broker",
          "[e2e][outage]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    backend.org("acme", 3600);

    backend.redis.stop();
    {
        MqttClient client;
        const int rc = client.connect(broker.port(), "probe", "0123456789abcdef@org_aaaaaaaaaaaa",
                                      "tkn_" + std::string(43, 'x'));
        INFO("token connect while Redis is down: CONNACK " << rc);
        CHECK(refused(rc));
    }

    backend.redis.start();  // same port, empty: re-create the data
    backend.reconnect();
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");

    MqttClient client;
    const auto started = Clock::now();
    const int rc = connect_eventually(client, broker.port(), "alice", alice, 10s);
    std::cout << "token connects accepted again " << ms(Clock::now() - started)
              << " ms after Redis came back\n";
    REQUIRE(rc == 0);
    CHECK(broker.running());
}

TEST_CASE("Redis restarted: revocations reach the broker again", "[e2e][outage]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    backend.redis.stop();
    backend.redis.start();
    backend.reconnect();
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");

    MqttClient client;
    REQUIRE(connect_eventually(client, broker.port(), "alice", alice, 10s) == 0);
    const auto revoked_at = Clock::now();
    backend.tokens.revoke(org.org_id, alice.token_id, unix_now());
    const auto closed = client.wait_disconnected(10s);
    REQUIRE(closed.has_value());
    INFO("closed " << ms(*closed - revoked_at) << " ms after the revoke");
    CHECK(ms(*closed - revoked_at) <= ms(kCloseWindow));
}
