// Switching an organization's token auth off (OrgStore::update, what `tokenctl org set
// --token-auth off` does) closes its live token connections and refuses new ones, while
// other organizations and password-file users are untouched.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("token auth switched off closes live token connections and refuses new ones",
          "[e2e][token-auth-off][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis, {}, {{"operator", "op-secret"}}));
    const auto acme = backend.org("acme", 3600);
    const auto globex = backend.org("globex", 3600);
    const auto alice = backend.mint(acme, "alice@example.com");
    const auto bob = backend.mint(acme, "bob@example.com");
    const auto carol = backend.mint(globex, "carol@example.com");

    MqttClient a;
    MqttClient b;
    MqttClient c;
    MqttClient op;
    REQUIRE(connect_with(a, broker.port(), "alice", alice) == 0);
    REQUIRE(connect_with(b, broker.port(), "bob", bob) == 0);
    REQUIRE(connect_with(c, broker.port(), "carol", carol) == 0);
    REQUIRE(op.connect(broker.port(), "op", "operator", "op-secret") == 0);

    const auto switched_at = Clock::now();
    backend.orgs.update(acme.org_id, std::nullopt, false);
    const auto closed_a = a.wait_disconnected(5s);
    const auto closed_b = b.wait_disconnected(5s);
    REQUIRE(closed_a.has_value());
    REQUIRE(closed_b.has_value());
    INFO("closed after " << ms(*closed_a - switched_at) << " ms and " << ms(*closed_b - switched_at)
                         << " ms");
    CHECK(ms(*closed_a - switched_at) <= ms(kCloseWindow));
    CHECK(ms(*closed_b - switched_at) <= ms(kCloseWindow));

    MqttClient again;
    const int rc = connect_with(again, broker.port(), "alice", alice);
    INFO("new connect while token auth is off: CONNACK " << rc);
    CHECK(refused(rc));

    CHECK(c.connected());
    CHECK(op.connected());
}

TEST_CASE("token auth switched off closes many connections at once", "[e2e][token-auth-off]") {
    constexpr int kClients = 40;
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    std::vector<std::unique_ptr<MqttClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        const auto token = backend.mint(org, "device" + std::to_string(i) + "@example.com");
        clients.push_back(std::make_unique<MqttClient>());
        REQUIRE(connect_with(*clients.back(), broker.port(), "device-" + std::to_string(i),
                             token) == 0);
    }

    const auto switched_at = Clock::now();
    backend.orgs.update(org.org_id, std::nullopt, false);
    long long worst = 0;
    for (auto& c : clients) {
        const auto closed = c->wait_disconnected(5s);
        REQUIRE(closed.has_value());
        worst = std::max(worst, ms(*closed - switched_at));
    }
    INFO("last of " << kClients << " connections closed after " << worst << " ms");
    CHECK(worst <= ms(kCloseWindow));
    CHECK(broker.running());
}
