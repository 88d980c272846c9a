// Redis outages: while Redis is down the broker keeps serving password-file users and
// refuses token connects quickly (fail closed, within the plugin's timeout, never hanging
// the broker); when Redis is back, token connects work again without a broker restart.
#include <catch2/catch.hpp>

#include <iostream>
#include <thread>

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
    if (replica_on(broker)) {
        // The replica knows alice; it stops answering once the event thread has seen the
        // connection drop (microseconds after Redis exits, logged at the next TICK).
        REQUIRE(wait_for_log(broker, "token replica untrusted", 5s));
    }
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

TEST_CASE("Redis down: a live token connection is still closed at its expiry", "[e2e][outage]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);
    const auto alice = backend.mint(org, "alice@example.com");
    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice", alice) == 0);

    backend.redis.stop();
    check_closed_in_window(client, steady_at(alice.expires_at));
}

TEST_CASE("Redis unreachable when the broker starts: it serves password users, then tokens",
          "[e2e][outage]") {
    Backend backend;
    backend.redis.stop();
    MosquittoBroker broker(token_broker(backend.redis, {}, {{"operator", "op-secret"}}));

    MqttClient op;
    CHECK(op.connect(broker.port(), "op", "operator", "op-secret") == 0);
    {
        MqttClient probe;
        const auto started = Clock::now();
        const int rc = probe.connect(broker.port(), "probe", "0123456789abcdef@org_aaaaaaaaaaaa",
                                     "tkn_" + std::string(43, 'x'));
        INFO("token connect without Redis: CONNACK " << rc << " after "
                                                     << ms(Clock::now() - started) << " ms");
        CHECK(refused(rc));
        CHECK(ms(Clock::now() - started) < ms(kFastRefusal));
    }

    backend.redis.start();
    backend.reconnect();
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MqttClient client;
    REQUIRE(connect_eventually(client, broker.port(), "alice", alice, 10s) == 0);

    // Events flow too: a revoke closes the connection.
    const auto revoked_at = Clock::now();
    backend.tokens.revoke(org.org_id, alice.token_id, unix_now());
    const auto closed = client.wait_disconnected(10s);
    REQUIRE(closed.has_value());
    INFO("closed " << ms(*closed - revoked_at) << " ms after the revoke");
    CHECK(ms(*closed - revoked_at) <= ms(kCloseWindow));
}

TEST_CASE("an unresponsive Redis does not hang the broker", "[e2e][outage]") {
    Backend backend;
    // The Redis lookup path: with the replica on, alice would be answered from memory until
    // the event thread's read times out (block + timeout), which is not what is tested here.
    MosquittoBroker broker(
        token_broker(backend.redis, {{"cache", "off"}}, {{"operator", "op-secret"}}));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MqttClient warm;
    REQUIRE(connect_with(warm, broker.port(), "warm", alice) == 0);

    // Redis keeps its sockets open but answers no client for 3 s.
    backend.db.command({"CLIENT", "PAUSE", "3000", "ALL"}).expect_ok("CLIENT PAUSE");
    const auto paused_at = Clock::now();

    MqttClient client;
    const auto started = Clock::now();
    const int rc = connect_with(client, broker.port(), "alice", alice);
    const auto took = ms(Clock::now() - started);
    MqttClient op;
    const auto op_started = Clock::now();
    const int op_rc = op.connect(broker.port(), "op", "operator", "op-secret");
    const auto op_took = ms(Clock::now() - op_started);
    REQUIRE(Clock::now() - paused_at < 3s);  // the checks above ran during the pause
    INFO("token connect: CONNACK " << rc << " after " << took << " ms; password user: CONNACK "
                                   << op_rc << " after " << op_took << " ms");
    CHECK(refused(rc));
    CHECK(took < ms(kFastRefusal));
    CHECK(op_rc == 0);
    CHECK(op_took < ms(kFastRefusal));
}

TEST_CASE("killed plugin connections to Redis: revocations still arrive", "[e2e][outage]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice", alice) == 0);

    // Drop every other client's connection (the plugin's lookup and event connections).
    const auto killed = backend.db.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    INFO("CLIENT KILL closed " << killed.integer << " connections");
    CHECK(killed.integer >= 1);

    const auto revoked_at = Clock::now();
    backend.tokens.revoke(org.org_id, alice.token_id, unix_now());
    const auto closed = client.wait_disconnected(10s);
    REQUIRE(closed.has_value());
    INFO("closed " << ms(*closed - revoked_at) << " ms after the revoke");
    CHECK(ms(*closed - revoked_at) <= ms(kCloseWindow));
}

TEST_CASE("Redis down: the plugin does not flood the broker log", "[e2e][outage]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice", alice) == 0);

    const auto plugin_lines = [&broker] {
        const std::string log = broker.log();
        std::size_t n = 0;
        for (std::size_t pos = log.find("token-auth:"); pos != std::string::npos;
             pos = log.find("token-auth:", pos + 1)) {
            ++n;
        }
        return n;
    };
    backend.redis.stop();
    const auto before = plugin_lines();
    // Observing a rate needs a fixed window: 3 s of outage with no client activity.
    std::this_thread::sleep_for(3s);
    const auto during = plugin_lines() - before;
    INFO(during << " plugin log lines in 3 s of outage");
    CHECK(during <= 10);
    CHECK(broker.running());
}
