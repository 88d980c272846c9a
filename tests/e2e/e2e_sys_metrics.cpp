// The plugin's counters on $SYS/broker/token-auth/... (plugin_opt_sys_interval): a
// monitoring client that is not a token client (a password-file user whose acl_file grants
// $SYS) receives them, and they move when token clients connect.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

const std::string kAccepted = "$SYS/broker/token-auth/connects/accepted";

// The next value published on `topic`, as a number; nullopt on timeout.
std::optional<std::uint64_t> next_value(MqttClient& client, const std::string& topic,
                                        std::chrono::milliseconds timeout) {
    const auto payload = client.wait_message(topic, timeout);
    if (!payload) {
        return std::nullopt;
    }
    return std::stoull(*payload);
}

// Waits for a value of `topic` above `floor`, reading publications until `deadline`.
std::optional<std::uint64_t> value_above(MqttClient& client, const std::string& topic,
                                         std::uint64_t floor, Clock::time_point deadline) {
    while (Clock::now() < deadline) {
        const auto v = next_value(client, topic, until(deadline));
        if (v && *v > floor) {
            return v;
        }
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("$SYS: a monitoring client receives the plugin's counters", "[e2e][sys]") {
    Backend backend;
    auto config = token_broker(backend.redis, {{"sys_interval", "1"}}, {{"monitor", "m-secret"}});
    config.acl_file = "user monitor\ntopic read $SYS/#\n";
    MosquittoBroker broker(config);
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");

    MqttClient monitor;
    REQUIRE(monitor.connect(broker.port(), "monitor", "monitor", "m-secret") == 0);
    REQUIRE(monitor.subscribe("$SYS/broker/token-auth/#", 0) == 0);
    const auto before = next_value(monitor, kAccepted, 5s);
    REQUIRE(before.has_value());
    // The other counters come with it.
    for (const char* name : {"connects/refused", "connects/deferred", "redis/failures", "kicks",
                             "connections", "replica/hits", "replica/fallbacks"}) {
        std::string topic = "$SYS/broker/token-auth/";
        topic.append(name);
        INFO(topic);
        CHECK(next_value(monitor, topic, 5s).has_value());
    }

    MqttClient a;
    REQUIRE(connect_with(a, broker.port(), "alice", alice) == 0);
    MqttClient wrong;
    REQUIRE(refused(
        wrong.connect(broker.port(), "w", alice.username(), "tkn_" + std::string(43, 'A'))));

    const auto after = value_above(monitor, kAccepted, *before, Clock::now() + 10s);
    REQUIRE(after.has_value());
    CHECK(*after == *before + 1);
    CHECK(value_above(monitor, "$SYS/broker/token-auth/connects/refused/unknown_token", 0,
                      Clock::now() + 10s)
              .has_value());
    CHECK(value_above(monitor, "$SYS/broker/token-auth/connections", 0, Clock::now() + 10s) ==
          std::optional<std::uint64_t>(1));
}

TEST_CASE("$SYS: plugin_opt_sys_interval 0 publishes nothing", "[e2e][sys]") {
    Backend backend;
    auto config = token_broker(backend.redis, {{"sys_interval", "0"}}, {{"monitor", "m-secret"}});
    config.acl_file = "user monitor\ntopic read $SYS/#\ntopic readwrite probe\n";
    MosquittoBroker broker(config);
    MqttClient monitor;
    REQUIRE(monitor.connect(broker.port(), "monitor", "monitor", "m-secret") == 0);
    REQUIRE(monitor.subscribe("$SYS/broker/token-auth/#", 0) == 0);
    REQUIRE(monitor.subscribe("probe", 1) == 1);
    // Retained counters would arrive before the probe, which is routed after the SUBACKs.
    REQUIRE(monitor.publish("probe", "x"));
    REQUIRE(monitor.wait_message("probe", 5s) == std::optional<std::string>("x"));
    CHECK(monitor.messages().empty());
}
