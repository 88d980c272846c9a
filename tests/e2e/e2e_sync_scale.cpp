// The replica's sync against a large store, in a real broker: 200 000 live tokens in two
// organizations (60 000 + 140 000, written by the bulk writer of tests/support/token_loader
// into the test's own Redis, exactly as create_token writes them). While the replica cannot
// sync (the broker's Redis user may not run HGETALL yet, so every attempt fails and is retried
// with backoff) token CONNECTs are answered by Redis; once it may, the sync completes, the
// replica is trusted, and a token that never connected before is answered from memory: no
// password lookup (HGET) reaches Redis for it (INFO commandstats counts the commands the
// authenticate script runs). CONNECTs made while that sync runs are accepted too.
//
// Sized for CI: the store takes a few seconds to write, the sync a few more under ASan.
// The sync does not depend on the broker version, so the matrix legs (TKA_MOSQUITTO) and
// the cache-off leg skip it.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/token_loader.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

long long get_calls(RedisConnection& redis) {
    const std::string info = redis.command({"INFO", "commandstats"}).str;
    const std::string needle = "cmdstat_hget:calls=";
    const auto at = info.find(needle);
    return at == std::string::npos ? 0 : std::stoll(info.substr(at + needle.size()));
}

// The broker log's line about `token`'s CONNECT ("... authenticated with token <id> ...").
std::string auth_line(const MosquittoBroker& broker, const IssuedToken& token) {
    const std::string needle = "authenticated with token " + token.token_id;
    if (!wait_for_log(broker, needle, 5s)) {
        return "";
    }
    const std::string log = broker.log();
    const auto at = log.find(needle);
    return log.substr(at, log.find('\n', at) - at);
}

bool other_leg() {
    const char* mosquitto = std::getenv("TKA_MOSQUITTO");
    const char* opts = std::getenv("TKA_E2E_PLUGIN_OPTS");
    return (mosquitto != nullptr && *mosquitto != '\0') ||
           (opts != nullptr && std::string(opts).find("cache=off") != std::string::npos);
}

}  // namespace

TEST_CASE(
    "sync at scale: 200k live tokens, answered by Redis until the replica is trusted, "
    "then from memory",
    "[e2e][replica][sync]") {
    if (other_leg()) {
        SUCCEED("runs in the default leg only (replica on, the default broker)");
        return;
    }
    const auto begin = Clock::now();
    Backend backend;
    backend.db
        .command({"ACL", "SETUSER", "broker", "on", ">broker-pw", "~*", "&*", "+@all", "-hgetall"})
        .expect_ok("ACL SETUSER");
    std::vector<IssuedToken> sample;  // every 10 000th token
    std::size_t written = 0;
    for (const auto& [name, count] : {std::pair<const char*, std::size_t>{"small", 60000},
                                      std::pair<const char*, std::size_t>{"large", 140000}}) {
        const auto org = backend.org(name, 3600);
        test::BulkLoadOptions load;
        load.email_tag = name;
        // From two connections at once, without token.created events: the stream keeps
        // only the last 100 000 events anyway.
        load.events = false;
        load.connections = 2;
        test::bulk_create_tokens(backend.db, org, count, unix_now(), load,
                                 [&](std::size_t, const IssuedToken& t) {
                                     if (written++ % 10000 == 0) {
                                         sample.push_back(t);
                                     }
                                 });
    }
    REQUIRE(sample.size() == 20);
    const auto loaded = Clock::now();

    BrokerConfig config = token_broker(backend.redis);
    std::string url = "redis://broker:broker-pw@127.0.0.1:";
    url.append(std::to_string(backend.redis.port()));
    config.plugin_opts = {{"redis_url", url},
                          {"log_level", "debug"},
                          {"cache", "on"},
                          {"cache_max_entries", "1000000"}};
    MosquittoBroker broker(config);
    REQUIRE(wait_for_log(broker, "token replica sync failed", 30s));

    // The replica cannot sync: Redis answers.
    {
        const long long gets = get_calls(backend.db);
        MqttClient client;
        REQUIRE(connect_with(client, broker.port(), "before", sample[0]) == 0);
        const std::string line = auth_line(broker, sample[0]);
        INFO(line);
        REQUIRE_FALSE(line.empty());
        CHECK(line.find("(from the replica)") == std::string::npos);
        CHECK(get_calls(backend.db) > gets);
    }

    // Now it may: CONNECTs keep being accepted while the sync runs, until it is trusted.
    backend.db.command({"ACL", "SETUSER", "broker", "+hgetall"}).expect_ok("ACL SETUSER");
    std::size_t next = 1;
    while (broker.log().find("token replica trusted") == std::string::npos && next < 10) {
        MqttClient client;
        INFO("CONNECT while syncing with sample token " << next);
        CHECK(connect_with(client, broker.port(), "during-" + std::to_string(next), sample[next]) ==
              0);
        ++next;
    }
    const auto granted = Clock::now();
    REQUIRE(wait_for_log(broker, "token replica trusted", 60s));
    std::cout << "sync at scale: 200000 tokens written in " << ms(loaded - begin) << " ms, trusted "
              << ms(Clock::now() - granted) << " ms after HGETALL was granted\n";
    CHECK(broker.log().find("token replica synced: 200000 live token(s) of 2 organization(s)") !=
          std::string::npos);

    // From memory: a token that never connected, no password lookup in Redis.
    const IssuedToken& fresh = sample.back();
    const long long gets = get_calls(backend.db);
    MqttClient client;
    REQUIRE(connect_with(client, broker.port(), "after", fresh) == 0);
    const std::string line = auth_line(broker, fresh);
    INFO(line);
    CHECK(line.find("(from the replica)") != std::string::npos);
    CHECK(get_calls(backend.db) == gets);
}
