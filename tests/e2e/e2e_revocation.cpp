// Revocation and replacement: revoking a token, or minting a new one for the same e-mail
// with replace_existing, closes the live connections of the old token within 1 s;
// replace_existing false leaves the earlier token and its connections alone.
#include <string_view>

#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

// Milliseconds from `since` until `client` was closed (waiting up to 5 s); -1 if never.
long long close_delay_ms(MqttClient& client, Clock::time_point since) {
    const auto closed = client.wait_disconnected(5s);
    return closed ? ms(*closed - since) : -1;
}

}  // namespace

TEST_CASE("revoking a token closes its live connection within 1 s", "[e2e][revocation][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    const auto bob = backend.mint(org, "bob@example.com");

    MqttClient a;
    MqttClient b;
    REQUIRE(connect_with(a, broker.port(), "alice-phone", alice) == 0);
    REQUIRE(connect_with(b, broker.port(), "bob-phone", bob) == 0);

    const auto revoked_at = Clock::now();
    REQUIRE(backend.tokens.revoke(org.org_id, alice.token_id, unix_now()) ==
            std::vector<std::string>{alice.token_id});
    const auto delay = close_delay_ms(a, revoked_at);
    INFO("closed " << delay << " ms after the revoke");
    CHECK(delay >= 0);
    CHECK(delay <= ms(kCloseWindow));

    CHECK(b.connected());
    MqttClient again;
    const int rc = connect_with(again, broker.port(), "alice-phone", alice);
    INFO("reconnect with the revoked token: CONNACK " << rc);
    CHECK(refused(rc));
}

TEST_CASE("revoking by e-mail closes every connection of that user within 1 s",
          "[e2e][revocation]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto phone = backend.mint(org, "alice@example.com", false);
    const auto laptop = backend.mint(org, "alice@example.com", false);

    MqttClient a;
    MqttClient b;
    REQUIRE(connect_with(a, broker.port(), "alice-phone", phone) == 0);
    REQUIRE(connect_with(b, broker.port(), "alice-laptop", laptop) == 0);

    const auto revoked_at = Clock::now();
    CHECK(backend.tokens.revoke_email(org, "alice@example.com", unix_now()).size() == 2);
    const auto delay_a = close_delay_ms(a, revoked_at);
    const auto delay_b = close_delay_ms(b, revoked_at);
    INFO("closed after " << delay_a << " ms and " << delay_b << " ms");
    CHECK((delay_a >= 0 && delay_a <= ms(kCloseWindow)));
    CHECK((delay_b >= 0 && delay_b <= ms(kCloseWindow)));
}

TEST_CASE("replacing a token closes the old token's connection within 1 s",
          "[e2e][revocation][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto old_token = backend.mint(org, "alice@example.com");

    MqttClient old_client;
    REQUIRE(connect_with(old_client, broker.port(), "alice-phone", old_token) == 0);

    const auto replaced_at = Clock::now();
    const auto new_token = backend.mint(org, "alice@example.com", true);
    const auto delay = close_delay_ms(old_client, replaced_at);
    INFO("closed " << delay << " ms after the replacement");
    CHECK(delay >= 0);
    CHECK(delay <= ms(kCloseWindow));

    MqttClient again;
    const int rc = connect_with(again, broker.port(), "alice-phone-2", old_token);
    INFO("reconnect with the replaced token: CONNACK " << rc);
    CHECK(refused(rc));
    MqttClient fresh;
    CHECK(connect_with(fresh, broker.port(), "alice-phone-3", new_token) == 0);
}

TEST_CASE("a new token with replace_existing false keeps the earlier one working",
          "[e2e][revocation]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto first = backend.mint(org, "alice@example.com");

    MqttClient a;
    REQUIRE(connect_with(a, broker.port(), "alice-phone", first) == 0);
    const auto second = backend.mint(org, "alice@example.com", false);
    MqttClient b;
    REQUIRE(connect_with(b, broker.port(), "alice-laptop", second) == 0);

    // Give a (wrong) close the whole window to happen.
    CHECK_FALSE(a.wait_disconnected(kCloseWindow + 300ms).has_value());
    CHECK(a.connected());
    CHECK(b.connected());
    MqttClient again;
    CHECK(connect_with(again, broker.port(), "alice-tablet", first) == 0);
}

// The plugin closes a connection by the client id the broker gave it at CONNECT, never
// through a stored connection pointer. With use_username_as_clientid the broker replaces
// the client's own id by its username before the plugin sees it: that is the id kicked.
TEST_CASE("revoking closes a client whose id the broker replaced by its username",
          "[e2e][revocation]") {
    Backend backend;
    BrokerConfig config = token_broker(backend.redis);
    // A string_view, not a literal: GCC 12 -O3 warns falsely (array-bounds) on the literal.
    constexpr std::string_view kUsernameAsClientId = "use_username_as_clientid true";
    config.extra_lines.emplace_back(kUsernameAsClientId);
    MosquittoBroker broker(config);
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    const auto bob = backend.mint(org, "bob@example.com");

    MqttClient a;
    MqttClient b;
    REQUIRE(connect_with(a, broker.port(), "alice-phone", alice) == 0);
    REQUIRE(connect_with(b, broker.port(), "bob-phone", bob) == 0);

    const auto revoked_at = Clock::now();
    REQUIRE(backend.tokens.revoke(org.org_id, alice.token_id, unix_now()).size() == 1);
    const auto delay = close_delay_ms(a, revoked_at);
    INFO("closed " << delay << " ms after the revoke");
    CHECK(delay >= 0);
    CHECK(delay <= ms(kCloseWindow));
    CHECK(wait_for_log(broker,
                       std::string("closing connection: revoked (token ")
                           .append(alice.token_id)
                           .append("), client '")
                           .append(alice.username())
                           .append("'"),
                       2s));
    CHECK_FALSE(b.wait_disconnected(300ms).has_value());
    CHECK(b.connected());
}
