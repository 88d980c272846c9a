// Upgrading a store of the previous Redis layout: a broker started on it logs that tokens
// need `tokenctl migrate`; after the real tokenctl has migrated them, the broker (which
// learns them from the token.created events of the migration) accepts the old devices'
// credentials unchanged, and refuses a token that was revoked before the upgrade.
#include <catch2/catch.hpp>

#include "common/layout_migration.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/legacy_tokens.hpp"
#include "tests/support/process.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("tokens of the previous layout connect after tokenctl migrate", "[e2e][migrate]") {
    Backend backend;
    const auto org = backend.org("acme", 3600);
    const UnixSeconds now = unix_now();
    const auto alice = test::write_legacy_token(backend.db, org, "alice@example.com", "active",
                                                now - 60, now + 3540);
    const auto bob = test::write_legacy_token(backend.db, org, "bob@example.com", "revoked",
                                              now - 60, now + 3540);

    MosquittoBroker broker(token_broker(backend.redis));
    CHECK(wait_for_log(broker, kLegacyLayoutMessage, 5s));
    MqttClient before;
    CHECK(refused(connect_with(before, broker.port(), "alice-before", alice)));

    const auto migrate = test::run(
        {TKA_BINARY_DIR "/tokenctl/tokenctl", "--redis-url", backend.redis.url(), "migrate"});
    INFO(migrate.out << migrate.err);
    REQUIRE(migrate.exit_code == 0);
    CHECK(migrate.out.find("tokens migrated:  2") != std::string::npos);

    MqttClient a;
    CHECK(connect_eventually(a, broker.port(), "alice-phone", alice, 5s) == 0);
    MqttClient b;
    CHECK(refused(connect_with(b, broker.port(), "bob-phone", bob)));

    // A broker started after the migration sees them too (full sync), and no warning.
    MosquittoBroker fresh(token_broker(backend.redis));
    MqttClient c;
    CHECK(connect_eventually(c, fresh.port(), "alice-laptop", alice, 5s) == 0);
    CHECK(fresh.log().find(kLegacyLayoutMessage) == std::string::npos);
}
