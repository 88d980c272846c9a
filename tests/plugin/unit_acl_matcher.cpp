// Topic isolation: filter matching (mosquitto_topic_matches_sub semantics), %o/%u
// substitution, subscription containment, and attempts to escape an org's subtree.
#include <catch2/catch.hpp>

#include "plugin/acl_matcher.hpp"
#include "plugin/options.hpp"

using tka::plugin::Access;
using tka::plugin::AclMatcher;
using tka::plugin::AclResult;
using tka::plugin::expand_pattern;
using tka::plugin::filter_within;
using tka::plugin::topic_matches_filter;

TEST_CASE("acl: topic matches filter", "[plugin][acl]") {
    struct Row {
        const char* filter;
        const char* topic;
        bool match;
    };
    const Row row = GENERATE(values<Row>({
        {"a/b/c", "a/b/c", true},
        {"a/b/c", "a/b", false},
        {"a/b", "a/b/c", false},
        {"a/+/c", "a/b/c", true},
        {"a/+/c", "a/b/d", false},
        {"a/+", "a/", true},  // empty level
        {"a/+", "a", false},
        {"+/+", "/x", true},
        {"a/#", "a", true},  // '#' includes the parent level
        {"a/#", "a/b/c/d", true},
        {"a/#", "ab", false},
        {"#", "anything/at/all", true},
        {"#", "$SYS/broker/load", false},  // leading wildcard never matches $ topics
        {"+/broker", "$SYS/broker", false},
        {"$SYS/#", "$SYS/broker/load", true},
        {"a/b", "A/b", false},
        {"a/#/c", "a/b/c", false},  // invalid filter
        {"a/b+", "a/b+", false},    // invalid filter
        {"a/b", "a/+", false},      // wildcard in a topic name is never a match
        {"a//b", "a//b", true},
    }));
    CAPTURE(row.filter, row.topic);
    CHECK(topic_matches_filter(row.filter, row.topic) == row.match);
}

TEST_CASE("acl: subscription filter within pattern", "[plugin][acl]") {
    struct Row {
        const char* sub;
        const char* pattern;
        bool within;
    };
    const Row row = GENERATE(values<Row>({
        {"orgs/o1/#", "orgs/o1/#", true},
        {"orgs/o1", "orgs/o1/#", true},
        {"orgs/o1/a/b", "orgs/o1/#", true},
        {"orgs/o1/+/b", "orgs/o1/#", true},
        {"orgs/+/#", "orgs/o1/#", false},
        {"orgs/#", "orgs/o1/#", false},
        {"#", "orgs/o1/#", false},
        {"+/o1/x", "orgs/o1/#", false},
        {"orgs/o1/x", "orgs/o1/+", true},
        {"orgs/o1/+", "orgs/o1/+", true},
        {"orgs/o1/#", "orgs/o1/+", false},
        {"orgs/o1/x/y", "orgs/o1/+", false},
        {"orgs/o1", "orgs/o1/+", false},
        {"a/+/c", "a/+/+", true},
        {"a/+/c", "a/b/c", false},
        {"$SYS/#", "#", false},
        {"x/y", "#", true},
    }));
    CAPTURE(row.sub, row.pattern);
    CHECK(filter_within(row.sub, row.pattern) == row.within);
}

TEST_CASE("acl: pattern expansion refuses unsafe values", "[plugin][acl]") {
    CHECK(expand_pattern("orgs/%o/users/%u/#", "org_a", "u1") == "orgs/org_a/users/u1/#");
    CHECK(expand_pattern("x-%o-%u", "o", "u") == "x-o-u");
    CHECK(expand_pattern("orgs/%o/#", "org_a/b", "u") == std::nullopt);
    CHECK(expand_pattern("orgs/%o/#", "+", "u") == std::nullopt);
    CHECK(expand_pattern("orgs/%u/#", "o", "#") == std::nullopt);
    CHECK(expand_pattern("orgs/%u/#", "o", "") == std::nullopt);
    CHECK(expand_pattern("orgs/static/#", "o/x", "u") == "orgs/static/#");  // no substitution
}

TEST_CASE("acl: decisions for two organizations", "[plugin][acl]") {
    const AclMatcher acl({"orgs/%o/#", "broadcast/+"}, {"orgs/%o/users/%u/#"});
    REQUIRE(acl.active());
    struct Row {
        const char* org;
        const char* user;
        const char* topic;
        Access access;
        AclResult expected;
    };
    const Row row = GENERATE(values<Row>({
        {"org_a", "u1", "orgs/org_a/users/u1/t", Access::write, AclResult::allow},
        {"org_a", "u1", "orgs/org_a/users/u2/t", Access::write, AclResult::deny},
        {"org_a", "u1", "orgs/org_b/users/u1/t", Access::write, AclResult::deny},
        {"org_a", "u1", "orgs/org_a/users/u1", Access::write, AclResult::allow},
        {"org_a", "u1", "orgs/org_a/users/+/t", Access::write, AclResult::deny},
        {"org_a", "u1", "orgs/org_a/x", Access::read, AclResult::allow},
        {"org_a", "u1", "orgs/org_b/x", Access::read, AclResult::deny},
        {"org_a", "u1", "broadcast/news", Access::read, AclResult::allow},
        {"org_a", "u1", "broadcast/news/more", Access::read, AclResult::deny},
        {"org_a", "u1", "orgs/org_a/#", Access::subscribe, AclResult::allow},
        {"org_a", "u1", "orgs/+/#", Access::subscribe, AclResult::deny},
        {"org_a", "u1", "#", Access::subscribe, AclResult::deny},
        {"org_a", "u1", "orgs/#", Access::subscribe, AclResult::deny},
        {"org_a", "u1", "broadcast/+", Access::subscribe, AclResult::allow},
        {"org_a", "u1", "broadcast/#", Access::subscribe, AclResult::deny},
        {"org_a", "u1", "$share/g/orgs/org_a/x", Access::subscribe, AclResult::allow},
        {"org_a", "u1", "$share/g/orgs/org_b/x", Access::subscribe, AclResult::deny},
        {"org_a", "u1", "$share/orgs/org_a/#", Access::subscribe, AclResult::deny},
        {"org_a", "u1", "orgs/org_b/#", Access::unsubscribe, AclResult::allow},
        // injection: ids that would widen the filter disable the pattern
        {"org_a/#", "u1", "orgs/org_a/#/x", Access::read, AclResult::deny},
        {"+", "u1", "orgs/org_b/x", Access::read, AclResult::deny},
        {"org_a", "#", "orgs/org_a/users/x/t", Access::write, AclResult::deny},
        {"org_a", "u1/../u2", "orgs/org_a/users/u2/t", Access::write, AclResult::deny},
    }));
    CAPTURE(row.org, row.user, row.topic, static_cast<int>(row.access));
    CHECK(acl.check(row.org, row.user, row.topic, row.access) == row.expected);
}

TEST_CASE("acl: without patterns everything is deferred", "[plugin][acl]") {
    const AclMatcher none;
    CHECK_FALSE(none.active());
    CHECK(none.check("org_a", "u1", "any/topic", Access::write) == AclResult::defer);
    CHECK(none.check("org_a", "u1", "#", Access::subscribe) == AclResult::defer);
}

TEST_CASE("acl: a direction without patterns is unrestricted", "[plugin][acl]") {
    const AclMatcher write_only({}, {"orgs/%o/#"});
    CHECK(write_only.check("org_a", "u1", "orgs/org_b/x", Access::write) == AclResult::deny);
    CHECK(write_only.check("org_a", "u1", "orgs/org_b/x", Access::read) == AclResult::allow);
    CHECK(write_only.check("org_a", "u1", "#", Access::subscribe) == AclResult::allow);
}

// The default (plugin_opt_acl_default org): orgs/%o/# in both directions.
TEST_CASE("acl: the default confines a token client to its organization", "[plugin][acl]") {
    const std::string ns(tka::plugin::kOrgNamespacePattern);
    const AclMatcher acl({ns}, {ns});
    struct Row {
        const char* topic;
        Access access;
        AclResult expected;
    };
    const Row row = GENERATE(values<Row>({
        {"orgs/org_a/x", Access::write, AclResult::allow},
        {"orgs/org_a/users/u1/t", Access::read, AclResult::allow},
        {"orgs/org_a", Access::read, AclResult::allow},
        {"orgs/org_a/#", Access::subscribe, AclResult::allow},
        {"orgs/org_a/+/status", Access::subscribe, AclResult::allow},
        {"$share/g/orgs/org_a/#", Access::subscribe, AclResult::allow},
        // other organizations, in any direction
        {"orgs/org_b/x", Access::write, AclResult::deny},
        {"orgs/org_b/x", Access::read, AclResult::deny},
        {"orgs/org_b/#", Access::subscribe, AclResult::deny},
        // wildcards that reach beyond the namespace
        {"#", Access::subscribe, AclResult::deny},
        {"+/#", Access::subscribe, AclResult::deny},
        {"orgs/#", Access::subscribe, AclResult::deny},
        {"orgs/+/x", Access::subscribe, AclResult::deny},
        {"+/org_a/#", Access::subscribe, AclResult::deny},
        {"$share/g/#", Access::subscribe, AclResult::deny},
        {"$share/g/orgs/+/x", Access::subscribe, AclResult::deny},
        // $SYS, read or subscribed, exactly or by wildcard
        {"$SYS/#", Access::subscribe, AclResult::deny},
        {"$SYS/broker/uptime", Access::subscribe, AclResult::deny},
        {"$SYS/broker/uptime", Access::read, AclResult::deny},
        {"$SYS/broker/token-auth/connects/accepted", Access::read, AclResult::deny},
        {"$SYS/broker/connection/x/state", Access::write, AclResult::deny},
        // outside any namespace
        {"demo/hello", Access::write, AclResult::deny},
        {"demo/hello", Access::read, AclResult::deny},
        {"orgs", Access::write, AclResult::deny},
        {"orgs/org_ab/x", Access::read, AclResult::deny},  // a prefix of another org id
    }));
    CAPTURE(row.topic, static_cast<int>(row.access));
    CHECK(acl.check("org_a", "u1", row.topic, row.access) == row.expected);
}
