// The token replica in a real broker: a token minted before the broker started is answered
// from memory once the replica has synced, and when Redis stops, the replica stops being
// trusted (its event connection died), so a token CONNECT is refused: fail closed. In the
// default run (plugin_opt_cache off) the same cases check the plain Redis path; the
// cache-on run (TKA_E2E_PLUGIN_OPTS=cache=on) checks the replica.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("replica: a token minted before the broker started is answered from memory",
          "[e2e][replica]") {
    Backend backend;
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MosquittoBroker broker(token_broker(backend.redis));
    const bool replica = replica_on(broker);
    if (replica) {
        REQUIRE(wait_for_log(broker, "token replica trusted", 10s));
    }

    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice", alice) == 0);
    const std::string line = "authenticated with token " + alice.token_id;
    REQUIRE(wait_for_log(broker, line, 5s));
    const std::string log = broker.log();
    const auto at = log.find(line);
    const auto end = log.find('\n', at);
    const std::string logged = log.substr(at, end - at);
    INFO(logged);
    CHECK((logged.find("(from the replica)") != std::string::npos) == replica);

    // A revoke reaches the replica before the next TICK; the connection is closed by it.
    backend.tokens.revoke(org.org_id, alice.token_id, unix_now());
    CHECK(client.wait_disconnected(kCloseWindow + 1s).has_value());
    MqttClient again;
    CHECK(refused(connect_with(again, broker.port(), "alice-2", alice)));
}

TEST_CASE(
    "replica: Redis stopped after the sync, the replica is untrusted and the connect "
    "is refused",
    "[e2e][replica][outage]") {
    Backend backend;
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MosquittoBroker broker(token_broker(backend.redis));
    const bool replica = replica_on(broker);
    if (replica) {
        REQUIRE(wait_for_log(broker, "token replica trusted", 10s));
    }
    {
        MqttClient warm;
        REQUIRE(connect_with(warm, broker.port(), "warm", alice) == 0);
    }

    backend.redis.stop();
    if (replica) {
        REQUIRE(wait_for_log(broker, "token replica untrusted", 5s));
    }
    MqttClient client;
    const int rc = connect_with(client, broker.port(), "alice", alice);
    INFO("token connect with Redis stopped: CONNACK " << rc);
    CHECK(refused(rc));
    CHECK(broker.running());
}
