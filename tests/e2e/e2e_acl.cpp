// Topic isolation with the operator's patterns: with plugin_opt_acl_read orgs/%o/# and
// plugin_opt_acl_write orgs/%o/%u/#, token users read only their organization's tree and
// write only their own subtree (the defaults are e2e_confinement.cpp's). "Never received"
// is checked deterministically: the suspect message is published with QoS 1 first (PUBACK =
// the broker has routed it), then an allowed sentinel; once the sentinel arrives, anything
// routed earlier would have arrived before it.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

BrokerConfig isolating_broker(const test::RedisServer& redis) {
    return token_broker(redis, {{"acl_read", "orgs/%o/#"}, {"acl_write", "orgs/%o/%u/#"}});
}

std::string subtree(const IssuedToken& t) {
    return "orgs/" + t.org_id + "/" + t.user_id;
}

bool received_topic(const MqttClient& client, const std::string& topic) {
    for (const auto& [t, payload] : client.messages()) {
        if (t == topic) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("ACL patterns: a subscriber never receives another organization's messages",
          "[e2e][acl][matrix]") {
    Backend backend;
    MosquittoBroker broker(isolating_broker(backend.redis));
    const auto acme = backend.org("acme", 3600);
    const auto globex = backend.org("globex", 3600);
    const auto alice = backend.mint(acme, "alice@example.com");
    const auto bob = backend.mint(acme, "bob@example.com");
    const auto carol = backend.mint(globex, "carol@example.com");

    MqttClient a;
    MqttClient b;
    MqttClient c;
    REQUIRE(connect_with(a, broker.port(), "alice", alice) == 0);
    REQUIRE(connect_with(b, broker.port(), "bob", bob) == 0);
    REQUIRE(connect_with(c, broker.port(), "carol", carol) == 0);

    REQUIRE(a.subscribe("orgs/" + acme.org_id + "/#", 1) == 1);
    // A wildcard across organizations may be refused at SUBACK or filtered on delivery;
    // either way nothing of globex may arrive.
    const int wide = a.subscribe("orgs/+/+/telemetry", 1);
    INFO("SUBACK for orgs/+/+/telemetry: " << wide);
    CHECK((wide == 1 || wide == MqttClient::kSubscriptionRefused));

    const std::string foreign = subtree(carol) + "/telemetry";
    REQUIRE(c.publish(foreign, "globex secret"));
    const std::string sentinel = subtree(bob) + "/telemetry";
    REQUIRE(b.publish(sentinel, "acme data"));
    REQUIRE(a.wait_message(sentinel, 5s) == std::optional<std::string>("acme data"));
    CHECK_FALSE(received_topic(a, foreign));

    // carol cannot reach into acme's tree either (write outside her pattern).
    const std::string intrusion = "orgs/" + acme.org_id + "/" + carol.user_id + "/telemetry";
    REQUIRE(c.publish(intrusion, "from globex"));
    REQUIRE(b.publish(sentinel, "acme data 2"));
    REQUIRE(a.wait_message(sentinel, 5s) == std::optional<std::string>("acme data 2"));
    CHECK_FALSE(received_topic(a, intrusion));
}

TEST_CASE("ACL patterns: a publish outside the writer's own subtree is not delivered",
          "[e2e][acl][matrix]") {
    Backend backend;
    MosquittoBroker broker(isolating_broker(backend.redis));
    const auto acme = backend.org("acme", 3600);
    const auto alice = backend.mint(acme, "alice@example.com");
    const auto bob = backend.mint(acme, "bob@example.com");

    MqttClient a;
    MqttClient b;
    REQUIRE(connect_with(a, broker.port(), "alice", alice) == 0);
    REQUIRE(connect_with(b, broker.port(), "bob", bob) == 0);
    REQUIRE(a.subscribe("orgs/" + acme.org_id + "/#", 1) == 1);

    const std::string impersonation = subtree(alice) + "/commands";  // bob writes as alice
    REQUIRE(b.publish(impersonation, "spoofed"));
    const std::string own = subtree(bob) + "/status";
    REQUIRE(b.publish(own, "online"));
    REQUIRE(a.wait_message(own, 5s) == std::optional<std::string>("online"));
    CHECK_FALSE(received_topic(a, impersonation));

    // A topic outside every pattern: nobody may receive it (a reads its own subtree only
    // through the org filter, so subscribe to the topic directly as well).
    const int outside_sub = a.subscribe("public/news", 1);
    INFO("SUBACK for public/news: " << outside_sub);
    REQUIRE(b.publish("public/news", "outside"));
    REQUIRE(b.publish(own, "still online"));
    REQUIRE(a.wait_message(own, 5s) == std::optional<std::string>("still online"));
    CHECK_FALSE(received_topic(a, "public/news"));
}

// Mosquitto 2.0 denies a topic when every ACL check defers, and the plugin defers for
// clients it did not authenticate: with ACL patterns on, password-file users get their
// topics from an acl_file, side by side with the plugin's patterns for token users.
TEST_CASE("ACL patterns and an acl_file: password-file users keep their own ACL",
          "[e2e][acl][matrix]") {
    Backend backend;
    auto config = isolating_broker(backend.redis);
    config.password_users = {{"operator", "op-secret"}};
    config.acl_file = "user operator\ntopic readwrite #\n";
    MosquittoBroker broker(config);
    const auto acme = backend.org("acme", 3600);
    const auto alice = backend.mint(acme, "alice@example.com");
    const auto bob = backend.mint(acme, "bob@example.com");

    MqttClient op;
    MqttClient a;
    MqttClient b;
    REQUIRE(op.connect(broker.port(), "op", "operator", "op-secret") == 0);
    REQUIRE(connect_with(a, broker.port(), "alice", alice) == 0);
    REQUIRE(connect_with(b, broker.port(), "bob", bob) == 0);
    REQUIRE(op.subscribe("#", 1) == 1);
    REQUIRE(a.subscribe("orgs/" + acme.org_id + "/#", 1) == 1);

    // The operator sees token users' traffic ...
    const std::string status = subtree(bob) + "/status";
    REQUIRE(b.publish(status, "online"));
    CHECK(op.wait_message(status, 5s) == std::optional<std::string>("online"));
    CHECK(a.wait_message(status, 5s) == std::optional<std::string>("online"));
    // ... and token users are still held to their patterns.
    const std::string impersonation = subtree(alice) + "/commands";
    REQUIRE(b.publish(impersonation, "spoofed"));
    REQUIRE(b.publish(status, "still online"));
    REQUIRE(op.wait_message(status, 5s) == std::optional<std::string>("still online"));
    CHECK_FALSE(received_topic(op, impersonation));
}
