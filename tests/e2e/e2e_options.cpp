// Plugin options as an operator meets them: a bad plugin_opt_* value stops the broker from
// starting with a message naming the option; valid repeated and comma-separated ACL
// patterns are accepted.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;
using Catch::Matchers::Contains;

TEST_CASE("an invalid plugin option stops the broker from starting", "[e2e][options]") {
    Backend backend;
    const auto [name, value] = GENERATE(table<std::string, std::string>({
        {"redis_timeout_ms", "abc"},
        {"redis_timeout_ms", "0"},
        {"redis_url", "http://127.0.0.1:6379"},
        {"acl_read", "orgs/#/%o"},
        {"log_level", "chatty"},
    }));
    INFO("plugin_opt_" << name << " " << value);
    CHECK_THROWS_WITH(MosquittoBroker(token_broker(backend.redis, {{name, value}})),
                      Contains("Invalid '" + name + "' value"));
}

TEST_CASE("repeated and comma-separated ACL patterns are accepted", "[e2e][options]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis, {{"acl_read", "orgs/%o/#,shared/%o/#"},
                                                        {"acl_read", "users/%u/#"},
                                                        {"acl_write", "orgs/%o/%u/#"},
                                                        {"redis_timeout_ms", "300"}}));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    MqttClient a;
    REQUIRE(connect_with(a, broker.port(), "alice", alice) == 0);
    CHECK(a.subscribe("orgs/" + org.org_id + "/#", 1) == 1);
    CHECK(a.subscribe("shared/" + org.org_id + "/#", 1) == 1);
    CHECK(a.subscribe("users/" + alice.user_id + "/#", 1) == 1);
    CHECK(a.subscribe("users/someone-else/#", 1) == MqttClient::kSubscriptionRefused);
}
