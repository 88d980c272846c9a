// Measures how late connections are closed after their token's expires_at, over many
// connections minted at staggered sub-second phases, and prints the median and the worst
// case for the lead (docs/testing.md). Every single delay must lie in [0, 1 s].
#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("kick delay after expires_at over many connections", "[e2e][expiry][kick-delay]") {
    constexpr int kConnections = 24;
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 2);

    std::vector<IssuedToken> tokens;
    std::vector<std::unique_ptr<MqttClient>> clients;
    for (int i = 0; i < kConnections; ++i) {
        tokens.push_back(backend.mint(org, "device" + std::to_string(i) + "@example.com"));
        clients.push_back(std::make_unique<MqttClient>());
        REQUIRE(connect_with(*clients.back(), broker.port(), "device-" + std::to_string(i),
                             tokens.back()) == 0);
        // Spread the mint times over the second so the deadlines fall at different phases
        // of the broker's tick.
        std::this_thread::sleep_for(90ms);
    }

    std::vector<long long> delays;
    for (int i = 0; i < kConnections; ++i) {
        const auto expires = steady_at(tokens[i].expires_at);
        const auto closed = clients[i]->wait_disconnected(until(expires) + 5s);
        INFO("connection " << i);
        REQUIRE(closed.has_value());
        const auto delay_ms = ms(*closed - expires);
        INFO("closed " << delay_ms << " ms after expires_at");
        CHECK(delay_ms >= 0);
        CHECK(delay_ms <= ms(kCloseWindow));
        delays.push_back(delay_ms);
    }

    std::sort(delays.begin(), delays.end());
    const auto n = delays.size();
    const double median =
        n % 2 ? static_cast<double>(delays[n / 2])
              : (static_cast<double>(delays[n / 2 - 1]) + static_cast<double>(delays[n / 2])) / 2;
    std::cout << "kick delay after expires_at over " << n << " connections: median " << median
              << " ms, worst " << delays.back() << " ms (best " << delays.front() << " ms)"
              << std::endl;
}
