// Confined by default: without any ACL option a token client reads and writes only inside
// orgs/<its org id>/ and never sees $SYS; plugin_opt_acl_default none gives back the
// unrestricted behaviour (unsafe when organizations share the broker). "Never received" is
// checked as in e2e_acl.cpp: the suspect message is published first with QoS 1 (PUBACK: the
// broker has routed it), then an allowed sentinel; once the sentinel arrives, anything
// routed earlier would have arrived before it. $SYS is checked with the plugin's own
// retained $SYS/broker/token-auth/ topics, which a permitted subscription receives at once.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

std::string in_org(const IssuedToken& t, const std::string& rest) {
    std::string topic = "orgs/";
    topic.append(t.org_id).append("/").append(rest);
    return topic;
}

bool received_any(const MqttClient& client, const std::string& prefix) {
    for (const auto& [topic, payload] : client.messages()) {
        if (topic.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

const std::string kPluginSys = "$SYS/broker/token-auth/connects/accepted";

}  // namespace

TEST_CASE("by default a token client reads nothing of another organization, nor $SYS",
          "[e2e][acl][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
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

    // Wildcards beyond the namespace and $SYS are refused at SUBACK.
    const std::vector<std::string> refused_filters = {
        "#", "+/#", "orgs/#", "orgs/+/telemetry", "$SYS/#", "$SYS/broker/token-auth/#", kPluginSys};
    for (const std::string& filter : refused_filters) {
        INFO("SUBACK for " << filter);
        CHECK(a.subscribe(filter, 1) == MqttClient::kSubscriptionRefused);
    }
    REQUIRE(a.subscribe(in_org(alice, "#"), 1) == 1);

    const std::string foreign = in_org(carol, "telemetry");
    REQUIRE(c.publish(foreign, "globex secret"));
    // carol cannot write into acme's namespace, nor outside any namespace.
    const std::string intrusion = in_org(alice, "telemetry");
    REQUIRE(c.publish(intrusion, "from globex"));
    REQUIRE(c.publish("demo/hello", "outside"));
    const std::string sentinel = in_org(bob, "status");
    REQUIRE(b.publish(sentinel, "acme data"));
    REQUIRE(a.wait_message(sentinel, 5s) == std::optional<std::string>("acme data"));
    CHECK_FALSE(received_any(a, foreign));
    CHECK_FALSE(received_any(a, intrusion));
    CHECK_FALSE(received_any(a, "demo/"));
    CHECK_FALSE(received_any(a, "$"));
}

TEST_CASE("plugin_opt_acl_default none: token clients are not confined (unsafe)", "[e2e][acl]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis, {{"acl_default", "none"}}));
    REQUIRE(
        wait_for_log(broker, "plugin_opt_acl_default none: token clients are not confined", 5s));
    const auto acme = backend.org("acme", 3600);
    const auto globex = backend.org("globex", 3600);
    const auto alice = backend.mint(acme, "alice@example.com");
    const auto carol = backend.mint(globex, "carol@example.com");

    MqttClient a;
    MqttClient c;
    REQUIRE(connect_with(a, broker.port(), "alice", alice) == 0);
    REQUIRE(connect_with(c, broker.port(), "carol", carol) == 0);
    REQUIRE(a.subscribe("#", 1) == 1);
    REQUIRE(c.publish(in_org(carol, "telemetry"), "globex data"));
    CHECK(a.wait_message(in_org(carol, "telemetry"), 5s) ==
          std::optional<std::string>("globex data"));
    REQUIRE(c.publish("shared/board", "hi"));
    CHECK(a.wait_message("shared/board", 5s) == std::optional<std::string>("hi"));
    // $SYS too: the plugin's retained counters arrive on subscription.
    REQUIRE(a.subscribe("$SYS/broker/token-auth/#", 0) == 0);
    CHECK(a.wait_message(kPluginSys, 5s).has_value());
}
