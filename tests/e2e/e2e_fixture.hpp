// What every end-to-end test sets up: a real Redis with an admin connection (OrgStore and
// TokenStore used directly, as tokenctl/tokend do, so they emit the events the plugin
// consumes), broker configs pointing the plugin at that Redis, and clock helpers that
// compare client-side disconnect times with a token's wall-clock expires_at.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/mqtt_client.hpp"
#include "tests/support/redis_server.hpp"

namespace tka::e2e {

using namespace std::chrono_literals;
using test::BrokerConfig;
using test::MosquittoBroker;
using test::MqttClient;
using Clock = std::chrono::steady_clock;

// The product requirement: a connection is closed within 1 s of expiry / revocation.
inline constexpr auto kCloseWindow = 1000ms;

// Absolute path of the plugin under test (set by tests/e2e/CMakeLists.txt).
inline std::string plugin_path() {
    return TKA_PLUGIN_PATH;
}

// A broker whose plugin uses `redis`; `extra` adds plugin_opt_* pairs (name without prefix).
inline BrokerConfig token_broker(const test::RedisServer& redis,
                                 std::vector<std::pair<std::string, std::string>> extra = {},
                                 std::vector<std::pair<std::string, std::string>> users = {}) {
    BrokerConfig config;
    config.plugin_path = plugin_path();
    config.plugin_opts = {{"redis_url", redis.url()}, {"log_level", "debug"}};
    config.plugin_opts.insert(config.plugin_opts.end(), extra.begin(), extra.end());
    config.password_users = std::move(users);
    return config;
}

// A real Redis and the stores an operator/backend would use on it.
struct Backend {
    test::RedisServer redis;
    RedisConnection db{redis.connect()};
    OrgStore orgs{db};
    TokenStore tokens{db};

    Organization org(const std::string& name, std::int64_t ttl, bool token_auth = true) {
        return orgs.create(name, ttl, token_auth, unix_now()).org;
    }
    IssuedToken mint(const Organization& o, const std::string& email, bool replace = true) {
        return tokens.create(o, email, replace, unix_now());
    }
    // After redis.start(): a fresh admin connection (the stores keep referring to `db`).
    void reconnect() { db = redis.connect(); }
};

// The steady_clock instant at which the wall clock shows `t` (unix seconds).
inline Clock::time_point steady_at(UnixSeconds t) {
    const auto wall_now = std::chrono::system_clock::now();
    const auto steady_now = Clock::now();
    const auto wall_t = std::chrono::system_clock::time_point(std::chrono::seconds(t));
    return steady_now + std::chrono::duration_cast<Clock::duration>(wall_t - wall_now);
}

inline long long ms(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Time left until `t`, never negative (for wait_* timeouts).
inline std::chrono::milliseconds until(Clock::time_point t) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now());
    return left.count() > 0 ? left : 0ms;
}

// Waits until the broker closes `client` and checks that it happened within
// [deadline, deadline + kCloseWindow]: the product's promise for a token's expiry.
inline void check_closed_in_window(MqttClient& client, Clock::time_point deadline) {
    const auto closed = client.wait_disconnected(until(deadline) + 5s);
    REQUIRE(closed.has_value());
    const auto delay_ms = ms(*closed - deadline);
    INFO("closed " << delay_ms << " ms after the deadline");
    CHECK(delay_ms >= 0);
    CHECK(delay_ms <= ms(kCloseWindow));
}

inline bool refused(int connack) {
    return connack == 4 || connack == 5;
}

// True when the broker's plugin runs with the token replica (plugin_opt_cache on, the
// default; TKA_E2E_PLUGIN_OPTS=cache=off runs the suite without): its start line says so.
inline bool replica_on(const MosquittoBroker& broker) {
    return broker.log().find("token replica on") != std::string::npos;
}

// Waits until the broker log contains `needle` (plugin lines from the event thread reach
// the log at the next TICK); false on timeout.
inline bool wait_for_log(const MosquittoBroker& broker, const std::string& needle,
                         std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (broker.log().find(needle) == std::string::npos) {
        if (Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

// Connects `client` with the token's credentials; returns the CONNACK code.
inline int connect_with(MqttClient& client, int port, const std::string& client_id,
                        const IssuedToken& token) {
    return client.connect(port, client_id, token.username(), token.password);
}

// Retries a connect until it is accepted or `timeout` passes; returns the last code.
inline int connect_eventually(MqttClient& client, int port, const std::string& client_id,
                              const IssuedToken& token, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    int rc = connect_with(client, port, client_id, token);
    while (rc != 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
        rc = connect_with(client, port, client_id, token);
    }
    return rc;
}

}  // namespace tka::e2e
