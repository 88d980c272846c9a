// A flood of wrong passwords against a broker whose token replica is trusted: every CONNECT
// is refused from memory, Redis is not asked once, and a valid token still connects. Redis
// lookups are counted with INFO commandstats: the broker's lookup script reads the password
// digest with HGET (docs/redis-layout.md, `authenticate`), which nothing else the broker does
// while idle uses (its heartbeat script writes the registry with ZADD/HSET). A second broker
// with the replica off shows that the count does see a lookup.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "common/crypto.hpp"
#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

// Calls of one Redis command so far, scripts' inner calls included (INFO commandstats).
std::int64_t command_calls(RedisConnection& redis, const std::string& command) {
    const std::string info = redis.command({"INFO", "commandstats"}).expect_ok("INFO").str;
    std::string key = "cmdstat_";
    key.append(command).append(":calls=");
    const auto at = info.find(key);
    if (at == std::string::npos) {
        return 0;  // never called since Redis started
    }
    return std::stoll(info.substr(at + key.size()));
}

// A well-formed token password that no token has.
std::string wrong_password() {
    return "tkn_" + crypto::base64url(crypto::random_bytes(32));
}

}  // namespace

TEST_CASE("replica: a flood of wrong passwords is refused without asking Redis",
          "[e2e][replica][flood]") {
    Backend backend;
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MosquittoBroker broker(token_broker(backend.redis, {{"cache", "on"}}));
    REQUIRE(wait_for_log(broker, "token replica trusted", 10s));

    constexpr int kAttempts = 500;
    const std::int64_t gets_before = command_calls(backend.db, "hget");
    int refusals = 0;
    MqttClient attacker;
    for (int i = 0; i < kAttempts; ++i) {
        IssuedToken guess = alice;
        guess.password = wrong_password();
        refusals += refused(connect_with(attacker, broker.port(), "attacker", guess)) ? 1 : 0;
    }
    const std::int64_t lookups = command_calls(backend.db, "hget") - gets_before;
    CHECK(refusals == kAttempts);
    INFO("password lookups in Redis during " << kAttempts << " wrong passwords: " << lookups);
    CHECK(lookups == 0);
    CHECK(wait_for_log(broker, "refused: unknown_token", 5s));

    // The real user still connects, from memory.
    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "alice", alice) == 0);
    CHECK(wait_for_log(broker, "authenticated with token " + alice.token_id, 5s));
    CHECK(command_calls(backend.db, "hget") - gets_before == 0);

    // Control: without the replica, one wrong password is one lookup the count does see.
    MosquittoBroker plain(token_broker(backend.redis, {{"cache", "off"}}));
    const std::int64_t gets_plain = command_calls(backend.db, "hget");
    IssuedToken guess = alice;
    guess.password = wrong_password();
    MqttClient other;
    CHECK(refused(connect_with(other, plain.port(), "attacker-2", guess)));
    CHECK(command_calls(backend.db, "hget") - gets_plain >= 1);
}
