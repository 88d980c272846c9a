// Read-your-writes for credentials (DESIGN.md, "Token lifecycle" and the refresh/revoke
// API): the moment a refresh, revoke or replace has returned, the old password no longer
// opens a new connection, on a broker that was already serving the token. No retries: a
// window in which a stale password still connects is exactly what these cases forbid.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

// A broker that has already accepted `token` once (so any cache of it is warm). With the
// replica on, it first waits until the replica answers, so the cases test the replica.
void warm_up(MosquittoBroker& broker, const IssuedToken& token) {
    if (replica_on(broker)) {
        REQUIRE(wait_for_log(broker, "token replica trusted", 10s));
    }
    MqttClient warm;
    REQUIRE(connect_with(warm, broker.port(), "warm-up", token) == 0);
    warm.disconnect();
}

}  // namespace

TEST_CASE("the old password is refused as soon as the refresh returns", "[e2e][consistency]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto first = backend.mint(org, "alice@example.com");
    warm_up(broker, first);

    const auto second = backend.tokens.refresh(first.token_id, first.password, unix_now());
    MqttClient client;
    const int rc = connect_with(client, broker.port(), "alice-phone", first);
    INFO("old password right after the refresh: CONNACK " << rc);
    CHECK(refused(rc));
    CHECK(connect_with(client, broker.port(), "alice-phone", second) == 0);
}

TEST_CASE("a revoked token is refused as soon as the revoke returns", "[e2e][consistency]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    warm_up(broker, alice);

    backend.tokens.revoke(org.org_id, alice.token_id, unix_now());
    MqttClient client;
    const int rc = connect_with(client, broker.port(), "alice-phone", alice);
    INFO("revoked token right after the revoke: CONNACK " << rc);
    CHECK(refused(rc));
}

TEST_CASE("a replaced token is refused as soon as the new one is minted", "[e2e][consistency]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto old_token = backend.mint(org, "alice@example.com");
    warm_up(broker, old_token);

    const auto new_token = backend.mint(org, "alice@example.com", true);
    MqttClient client;
    const int rc = connect_with(client, broker.port(), "alice-phone", old_token);
    INFO("replaced token right after the new mint: CONNACK " << rc);
    CHECK(refused(rc));
    CHECK(connect_with(client, broker.port(), "alice-phone", new_token) == 0);
}

TEST_CASE("token auth switched off refuses new token connects at once", "[e2e][consistency]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    warm_up(broker, alice);

    backend.orgs.update(org.org_id, std::nullopt, false);
    MqttClient client;
    const int rc = connect_with(client, broker.port(), "alice-phone", alice);
    INFO("token connect right after token auth off: CONNACK " << rc);
    CHECK(refused(rc));
}
