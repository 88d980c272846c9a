// The failed-auth backoff in a real broker (docs/plugin.md, "Failed-auth backoff"): a
// flood of wrong passwords from one address (127.0.0.1, like every client here) enters
// backoff after plugin_opt_backoff_threshold failures, and from then on costs Redis no
// lookup; a valid client of the same address connects whenever the replica holds its
// token; a success, or the backoff's time, ends it. Redis lookups are counted on the test
// Redis with INFO commandstats. One case runs with the replica off (every CONNECT memory
// cannot decide would ask Redis), one with it on and trusted, in every leg of the suite.
#include <catch2/catch.hpp>

#include <string>

#include "common/crypto.hpp"
#include "common/identifiers.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace tka::e2e {
namespace {

constexpr int kMqtt5NotAuthorized = 0x87;
constexpr int kMqtt5ConnectionRateExceeded = 0x9F;

// Token lookups Redis has served: calls of HGET, which the lookup script runs for the
// password's digest in an organization with token auth on (once per bucket generation it
// looks in: once in an org as small as these), and which nothing else the broker does
// runs (the replica's heartbeat and the event reads use other commands).
long long lookups(const test::RedisServer& redis) {
    RedisConnection conn = redis.connect();
    const std::string info = conn.command({"INFO", "commandstats"}).str;
    const std::string name = "cmdstat_hget:calls=";
    const auto at = info.find(name);
    return at == std::string::npos ? 0 : std::stoll(info.substr(at + name.size()));
}

// One CONNECT with `username` and a random well-formed password no token has.
int wrong_password(const MosquittoBroker& broker, const std::string& username) {
    MqttClient client;
    return client.connect(broker.port(), "flood", username, ids::new_token_password());
}

// A made-up, well-formed username of `org`.
std::string random_username(const Organization& org) {
    std::string user = crypto::sha256_hex(ids::new_token_password()).substr(0, 16);
    user += "@";
    user += org.org_id;
    return user;
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

std::string address_entry(int seconds) {
    std::string line = "backoff for ";
    line += std::to_string(seconds);
    line += " s after repeated failed token CONNECTs: client address '127.0.0.1'";
    return line;
}

}  // namespace

TEST_CASE("backoff: a flood of wrong passwords stops reaching Redis until a success or its time",
          "[e2e][backoff]") {
    Backend backend;
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    const auto bob = backend.mint(org, "bob@example.com");  // his username is flooded
    // No replica: every token CONNECT that memory cannot decide asks Redis.
    MosquittoBroker broker(token_broker(backend.redis, {{"cache", "off"},
                                                        {"backoff_threshold", "5"},
                                                        {"backoff_first_s", "2"},
                                                        {"backoff_max_s", "60"}}));
    REQUIRE(wait_for_log(broker, "failed-auth backoff on", 2s));
    const bool delayed = broker.log().find("delayed basic auth on") != std::string::npos;

    // Five failures are tolerated; the sixth enters backoff. Each asked Redis.
    const long long before = lookups(backend.redis);
    for (int i = 0; i < 6; ++i) {
        REQUIRE(wrong_password(broker, bob.username()) == 5);
    }
    CHECK(lookups(backend.redis) == before + 6);
    REQUIRE(wait_for_log(broker, address_entry(2), 2s));

    // In backoff: refused at once, and Redis is not asked.
    for (int i = 0; i < 100; ++i) {
        REQUIRE(wrong_password(broker, bob.username()) == 5);
    }
    // MQTT 5 clients learn why on Mosquitto 2.1 (2.0 says "not authorized").
    MqttClient v5(5);
    CHECK(v5.connect(broker.port(), "flood-v5", bob.username(), ids::new_token_password()) ==
          (delayed ? kMqtt5ConnectionRateExceeded : kMqtt5NotAuthorized));
    // A valid client of the same address: without a replica memory cannot decide it.
    MqttClient shared;
    CHECK(connect_with(shared, broker.port(), "alice", alice) == 5);
    CHECK(lookups(backend.redis) == before + 6);
    CHECK(wait_for_log(broker, "refused: backoff", 2s));

    // After its time the valid client connects (through Redis), which also ends the
    // backoff's growth: the flood's next failure enters again for the first length.
    INFO(broker.log_tail(40));
    REQUIRE(connect_eventually(shared, broker.port(), "alice", alice, 10s) == 0);
    const long long after_success = lookups(backend.redis);
    CHECK(after_success == before + 7);
    CHECK(wrong_password(broker, random_username(org)) == 5);  // asks Redis, enters again
    CHECK(wait_for_log(broker, address_entry(2), 2s));
    const auto deadline = Clock::now() + 2s;
    while (occurrences(broker.log(), address_entry(2)) < 2 && Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    CHECK(occurrences(broker.log(), address_entry(2)) == 2);
    CHECK(wrong_password(broker, random_username(org)) == 5);  // in backoff again
    CHECK(lookups(backend.redis) == after_success + 1);
    CHECK(shared.connected());
}

TEST_CASE("backoff: a valid client sharing the flood's address connects from the replica",
          "[e2e][backoff][replica]") {
    Backend backend;
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MosquittoBroker broker(token_broker(
        backend.redis, {{"cache", "on"}, {"backoff_threshold", "5"}, {"backoff_first_s", "60"}}));
    REQUIRE(wait_for_log(broker, "token replica trusted", 10s));

    // A flood from 127.0.0.1 through ever new usernames: only the address can catch it.
    for (int i = 0; i < 6; ++i) {
        REQUIRE(wrong_password(broker, random_username(org)) == 5);
    }
    REQUIRE(wait_for_log(broker, address_entry(60), 2s));
    const long long in_backoff = lookups(backend.redis);
    for (int i = 0; i < 100; ++i) {
        REQUIRE(wrong_password(broker, random_username(org)) == 5);
    }
    CHECK(lookups(backend.redis) == in_backoff);

    // The replica holds alice's token: she connects, from memory, from the same address.
    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice", alice) == 0);
    CHECK(wait_for_log(broker, "authenticated with token " + alice.token_id, 2s));
    CHECK(lookups(backend.redis) == in_backoff);

    // Her success ended the address's backoff (it would have run for a minute): the flood's
    // next failure enters it anew, and from then on costs Redis nothing again.
    CHECK(occurrences(broker.log(), address_entry(60)) == 1);
    CHECK(wrong_password(broker, random_username(org)) == 5);
    const auto deadline = Clock::now() + 2s;
    while (occurrences(broker.log(), address_entry(60)) < 2 && Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    INFO(broker.log_tail(20));
    CHECK(occurrences(broker.log(), address_entry(60)) == 2);
    const long long resumed = lookups(backend.redis);
    for (int i = 0; i < 20; ++i) {
        CHECK(wrong_password(broker, random_username(org)) == 5);
    }
    CHECK(lookups(backend.redis) == resumed);
    CHECK(client.connected());
}

}  // namespace tka::e2e
