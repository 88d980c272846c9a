// The operator dashboard's changes reach live MQTT connections exactly as tokenctl's do:
// a token revoked through the admin API, or token auth switched off, closes the
// connections it concerns within the same window, because the admin API calls the same
// stores, which emit the same events and run the same replica fence.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/tokend/admin_harness.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("dashboard: revoking a token and switching token auth off close live connections",
          "[e2e][dashboard]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    test::AdminTokend tokend(backend.redis);
    const auto admin = test::make_admin(backend.redis, "alice");
    test::AdminClient dashboard(tokend.admin_port());
    REQUIRE(dashboard.login(admin.name, admin.password).status == 200);

    const auto acme = backend.org("acme", 3600);
    const auto globex = backend.org("globex", 3600);
    const auto ann = backend.mint(acme, "ann@example.com");
    const auto bob = backend.mint(acme, "bob@example.com");
    const auto carol = backend.mint(globex, "carol@example.com");
    MqttClient a;
    MqttClient b;
    MqttClient c;
    REQUIRE(connect_with(a, broker.port(), "ann", ann) == 0);
    REQUIRE(connect_with(b, broker.port(), "bob", bob) == 0);
    REQUIRE(connect_with(c, broker.port(), "carol", carol) == 0);

    const std::string org = "/admin/api/orgs/" + acme.org_id;
    auto revoked_at = Clock::now();
    auto r = dashboard.api("POST", org + "/tokens/" + ann.token_id + "/revoke");
    REQUIRE(r.status == 200);
    auto closed = a.wait_disconnected(5s);
    REQUIRE(closed.has_value());
    INFO("revoked token's connection closed after " << ms(*closed - revoked_at) << " ms");
    CHECK(ms(*closed - revoked_at) <= ms(kCloseWindow));
    CHECK(b.connected());

    const auto switched_at = Clock::now();
    r = dashboard.api("PATCH", org, {{"token_auth", false}});
    REQUIRE(r.status == 200);
    closed = b.wait_disconnected(5s);
    REQUIRE(closed.has_value());
    INFO("token auth off closed a connection after " << ms(*closed - switched_at) << " ms");
    CHECK(ms(*closed - switched_at) <= ms(kCloseWindow));
    CHECK(c.connected());
    MqttClient again;
    CHECK(refused(connect_with(again, broker.port(), "bob", bob)));
}
