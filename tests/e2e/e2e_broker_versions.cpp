// What depends on the broker version (docs/plugin.md, "Broker versions"). These cases are
// hidden from the default run; the compatibility legs of tests/e2e/CMakeLists.txt select
// them for the brokers they are about:
// - [no-ticks]: Mosquitto 2.0.11 with per_listener_settings true sends no MOSQ_EVT_TICK, so
//   the plugin could never close a connection: it refuses token clients and says why.
// - [delayed]: Mosquitto 2.1's delayed basic auth: a CONNECT that waits for Redis does not
//   hold up the broker, and MQTT 5 clients learn why they were refused.
#include <catch2/catch.hpp>

#include <future>

#include "tests/e2e/e2e_fixture.hpp"

namespace tka::e2e {
namespace {

constexpr int kMqtt5NotAuthorized = 0x87;
constexpr int kMqtt5ServerUnavailable = 0x88;

}  // namespace

TEST_CASE("broker without ticks: token clients are refused, with the setting and the fix logged",
          "[.][no-ticks]") {
    Backend be;
    const auto org = be.org("acme", 3600);
    const auto tok = be.mint(org, "device@example.com");
    MosquittoBroker broker(token_broker(be.redis, {}, {{"plain-user", "plain-pass"}}));

    MqttClient token_client;
    const int rc = connect_with(token_client, broker.port(), "dev", tok);
    CHECK(refused(rc));
    INFO(broker.log_tail(30));
    CHECK(wait_for_log(broker, "per_listener_settings false", 2s));
    CHECK(wait_for_log(broker, "refused: no_tick_events", 2s));
    // Other authentication is not affected.
    MqttClient password_client;
    CHECK(password_client.connect(broker.port(), "plain", "plain-user", "plain-pass") == 0);
}

TEST_CASE("delayed auth: a CONNECT that waits for Redis does not hold up other clients",
          "[.][delayed]") {
    Backend be;
    const auto org = be.org("acme", 3600);
    const auto sub_tok = be.mint(org, "sub@example.com");
    const auto pub_tok = be.mint(org, "pub@example.com");
    const auto late_tok = be.mint(org, "late@example.com");
    // No replica: every token CONNECT asks Redis. A generous timeout so that the paused Redis
    // delays the lookup instead of failing it.
    MosquittoBroker broker(
        token_broker(be.redis, {{"cache", "off"}, {"redis_timeout_ms", "5000"}}));
    REQUIRE(wait_for_log(broker, "delayed basic auth on", 2s));

    MqttClient sub, pub;
    REQUIRE(connect_with(sub, broker.port(), "sub", sub_tok) == 0);
    REQUIRE(connect_with(pub, broker.port(), "pub", pub_tok) == 0);
    REQUIRE(sub.subscribe("orgs/" + org.org_id + "/t") == 1);

    // Every Redis client stalls for 1.5 s, the plugin's lookups included.
    be.db.command({"CLIENT", "PAUSE", "1500", "ALL"});
    MqttClient late;
    auto connack = std::async(std::launch::async, [&] {
        const int rc = connect_with(late, broker.port(), "late", late_tok);
        return std::make_pair(rc, Clock::now());
    });
    REQUIRE(wait_for_log(
        broker,
        "waits for Redis (delayed basic auth): client 'late' (username '" + late_tok.username(),
        3s));
    // While that CONNECT waits, the broker keeps routing: a message goes round.
    REQUIRE(pub.publish("orgs/" + org.org_id + "/t", "meanwhile"));
    REQUIRE(sub.wait_message("orgs/" + org.org_id + "/t", 1s) == "meanwhile");
    const auto delivered_at = Clock::now();
    const auto [rc, connack_at] = connack.get();
    INFO(broker.log_tail(30));
    CHECK(rc == 0);                    // accepted once Redis answered
    CHECK(connack_at > delivered_at);  // and only after the message had gone round
}

TEST_CASE("delayed auth: MQTT 5 clients are told the server is unavailable while Redis is down",
          "[.][delayed]") {
    Backend be;
    const auto org = be.org("acme", 3600);
    const auto tok = be.mint(org, "device@example.com");
    MosquittoBroker broker(token_broker(be.redis, {{"cache", "off"}}));
    REQUIRE(wait_for_log(broker, "delayed basic auth on", 2s));
    MqttClient before(5);
    REQUIRE(connect_with(before, broker.port(), "before", tok) == 0);
    before.disconnect();

    be.redis.stop();
    // The first CONNECT after the loss finds out (refused once the lookup failed); from then
    // on the plugin knows and answers at once with the reason.
    std::vector<int> codes;
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
        MqttClient v5(5);
        codes.push_back(connect_with(v5, broker.port(), "v5", tok));
        if (codes.back() == kMqtt5ServerUnavailable) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    INFO(broker.log_tail(30));
    REQUIRE(!codes.empty());
    CHECK(codes.back() == kMqtt5ServerUnavailable);
    for (int code : codes) {
        CHECK((code == kMqtt5ServerUnavailable || code == kMqtt5NotAuthorized));
    }
    // MQTT 3.1.1 has no such code: "not authorized".
    MqttClient v311;
    CHECK(connect_with(v311, broker.port(), "v311", tok) == 5);

    // Back: accepted again without a broker restart (the restart emptied Redis: mint again).
    be.redis.start();
    be.reconnect();
    const auto org2 = be.org("acme2", 3600);
    const auto tok2 = be.mint(org2, "device@example.com");
    MqttClient again(5);
    CHECK(connect_eventually(again, broker.port(), "again", tok2, 5000ms) == 0);
}

}  // namespace tka::e2e
