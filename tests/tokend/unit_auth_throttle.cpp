// The throttling policy of the request path: address and organization levels, the rule
// that an organization's block spares addresses without failures, the allow-list.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <variant>

#include "tokend/auth_throttle.hpp"

using namespace tka::tokend;
using tka::IpRangeSet;
using namespace std::chrono_literals;

namespace {

const AuthThrottle::Clock::time_point kStart = AuthThrottle::Clock::time_point{} + 1000s;
const std::string kOrg = "org_k7xm4pqr2n5t";
const std::string kOtherOrg = "org_a1b2c3d4e5f6";

ThrottleOptions with_allow(std::vector<std::string> ranges) {
    ThrottleOptions o;
    auto parsed = IpRangeSet::parse(ranges);
    REQUIRE(std::holds_alternative<IpRangeSet>(parsed));
    o.allow = std::get<IpRangeSet>(parsed);
    return o;
}

// One failure of create/revoke with a wrong key for `org`, from each of `count` addresses
// 198.51.100.1, 198.51.100.2, ...
void distributed_failures(AuthThrottle& t, int count, const std::string& org,
                          AuthThrottle::Clock::time_point now) {
    for (int i = 1; i <= count; ++i) {
        t.failure("198.51.100." + std::to_string(i), org, now);
    }
}

}  // namespace

TEST_CASE("auth throttle: keys", "[tokend][unit]") {
    CHECK(AuthThrottle::address_key("192.0.2.7") == "addr:192.0.2.7");
    CHECK(AuthThrottle::address_key("::ffff:192.0.2.7") == "addr:192.0.2.7");
    CHECK(AuthThrottle::address_key("2001:db8:1:2:aaaa::1") == "addr:2001:db8:1:2::/64");
    CHECK(AuthThrottle::address_key("2001:DB8:1:2:bbbb::9") == "addr:2001:db8:1:2::/64");
    CHECK(AuthThrottle::address_key("2001:db8:1:3::1") == "addr:2001:db8:1:3::/64");
    CHECK(AuthThrottle::address_key("peer") == "addr:?peer");
    CHECK(AuthThrottle::org_key(kOrg) == "org:" + kOrg);
}

TEST_CASE("auth throttle: an address is blocked after its own failures", "[tokend][unit]") {
    AuthThrottle t({});
    for (int i = 0; i < 30; ++i) {
        CHECK_FALSE(t.failure("192.0.2.7", "", kStart).address.blocked);
    }
    auto o = t.failure("192.0.2.7", "", kStart);
    CHECK(o.address.blocked);
    CHECK(o.address.penalty_seconds == 10);
    CHECK_FALSE(o.organization.blocked);
    auto d = t.check("192.0.2.7", "", kStart);
    CHECK_FALSE(d.allowed);
    CHECK(d.retry_after_seconds == 10);
    // Whatever organization it names.
    CHECK_FALSE(t.check("192.0.2.7", kOrg, kStart).allowed);
    CHECK(t.check("192.0.2.8", kOrg, kStart).allowed);
    CHECK(t.addresses().blocked_keys(kStart) == 1);
}

TEST_CASE("auth throttle: IPv6 addresses of one /64 share a score", "[tokend][unit]") {
    AuthThrottle t({});
    for (int i = 0; i < 31; ++i) {
        t.failure("2001:db8:1:2::" + std::to_string(i + 1), "", kStart);  // a new address each time
    }
    CHECK_FALSE(t.check("2001:db8:1:2::ffff", "", kStart).allowed);
    CHECK(t.check("2001:db8:1:3::1", "", kStart).allowed);
    CHECK(t.addresses().tracked_keys() == 1);
}

TEST_CASE("auth throttle: a blocked organization refuses only addresses that fail",
          "[tokend][unit]") {
    AuthThrottle t({});  // organization threshold 100
    // A guesser spread over 101 addresses, one failure each: no address is near its own
    // threshold, the organization passes its threshold.
    distributed_failures(t, 100, kOrg, kStart);
    CHECK(t.check("198.51.100.1", kOrg, kStart).allowed);
    auto o = t.failure("198.51.100.101", kOrg, kStart);
    CHECK(o.organization.blocked);
    CHECK_FALSE(o.address.blocked);
    CHECK(t.organizations().blocked_keys(kStart) == 1);

    // The guessing addresses are refused for this organization...
    auto d = t.check("198.51.100.1", kOrg, kStart + 1s);
    CHECK_FALSE(d.allowed);
    CHECK(d.retry_after_seconds == 9);  // the organization's block ends first
    // ...but not for another organization, nor for requests that name none (refresh).
    CHECK(t.check("198.51.100.1", kOtherOrg, kStart + 1s).allowed);
    CHECK(t.check("198.51.100.1", "", kStart + 1s).allowed);
    // The organization's own backend, which has not failed, is never refused.
    CHECK(t.check("192.0.2.50", kOrg, kStart + 1s).allowed);
    t.success("192.0.2.50", kStart + 1s);
    CHECK(t.check("192.0.2.50", kOrg, kStart + 2s).allowed);
    // Once the block is over, everyone is allowed again.
    CHECK(t.check("198.51.100.1", kOrg, kStart + 10s).allowed);
}

TEST_CASE(
    "auth throttle: a failing address waits for its own failure to decay, or the "
    "organization's block",
    "[tokend][unit]") {
    ThrottleOptions options;
    options.auth_fail_penalty_s = 600;  // an organization block far longer than a half-life
    AuthThrottle t(options);
    distributed_failures(t, 101, kOrg, kStart);
    REQUIRE_FALSE(t.organizations().check(AuthThrottle::org_key(kOrg), kStart).allowed);

    // 198.51.100.1 failed once at kStart: its score falls below 0.5 one half-life later.
    auto d = t.check("198.51.100.1", kOrg, kStart);
    CHECK_FALSE(d.allowed);
    CHECK(d.retry_after_seconds == 60);
    CHECK_FALSE(t.check("198.51.100.1", kOrg, kStart + 59s).allowed);
    CHECK(t.check("198.51.100.1", kOrg, kStart + 61s).allowed);
    // A backend that mistyped its key once during the attack is back after about a minute.
    t.failure("192.0.2.50", kOrg, kStart + 100s);
    CHECK_FALSE(t.check("192.0.2.50", kOrg, kStart + 100s).allowed);
    CHECK(t.check("192.0.2.50", kOrg, kStart + 161s).allowed);
    CHECK_FALSE(t.organizations().check(AuthThrottle::org_key(kOrg), kStart + 161s).allowed);
}

TEST_CASE("auth throttle: successes do not shorten an organization's penalties", "[tokend][unit]") {
    AuthThrottle t({});
    auto now = kStart;
    std::vector<int> penalties;
    int wave = 0;
    while (penalties.size() < 3) {
        // The organization's backend keeps succeeding; a new set of guessing addresses
        // fails whenever let through.
        t.success("192.0.2.50", now);
        for (int i = 1; i <= 200; ++i) {
            const std::string address = "203.0." + std::to_string(wave) + "." + std::to_string(i);
            if (t.check(address, kOrg, now).allowed) {
                if (auto o = t.failure(address, kOrg, now); o.organization.blocked) {
                    penalties.push_back(o.organization.penalty_seconds);
                }
            }
        }
        ++wave;
        now += 5s;
    }
    CHECK(penalties == std::vector<int>{10, 20, 40});
}

TEST_CASE("auth throttle: malformed organization ids count for nothing", "[tokend][unit]") {
    AuthThrottle t({});
    for (int i = 0; i < 500; ++i) {
        t.failure("198.51.100." + std::to_string(i % 250), "org_NOT-VALID", kStart);
        t.failure("198.51.100." + std::to_string(i % 250), std::string(5000, 'x'), kStart);
    }
    CHECK(t.organizations().tracked_keys() == 0);
    CHECK(t.check("198.51.100.1", "org_NOT-VALID", kStart).allowed);
}

TEST_CASE("auth throttle: allow-listed addresses are never throttled and count nowhere",
          "[tokend][unit]") {
    AuthThrottle t(with_allow({"10.0.0.0/8", "2001:db8:ffff::/48"}));
    CHECK(t.exempt("10.1.2.3"));
    CHECK(t.exempt("::ffff:10.1.2.3"));
    CHECK(t.exempt("2001:db8:ffff::1"));
    CHECK_FALSE(t.exempt("192.0.2.7"));
    CHECK_FALSE(t.exempt("not an address"));
    for (int i = 0; i < 1000; ++i) {
        t.failure("10.1.2.3", kOrg, kStart);
        t.failure("2001:db8:ffff::1", kOrg, kStart);
    }
    CHECK(t.check("10.1.2.3", kOrg, kStart).allowed);
    CHECK(t.check("2001:db8:ffff::1", kOrg, kStart).allowed);
    CHECK(t.addresses().tracked_keys() == 0);
    CHECK(t.organizations().tracked_keys() == 0);
    // An allow-listed address is not refused by a blocked organization either.
    distributed_failures(t, 101, kOrg, kStart);
    REQUIRE_FALSE(t.organizations().check(AuthThrottle::org_key(kOrg), kStart).allowed);
    CHECK(t.check("10.1.2.3", kOrg, kStart).allowed);
}

TEST_CASE("auth throttle: levels turned off", "[tokend][unit]") {
    SECTION("both off") {
        ThrottleOptions options;
        options.auth_fail_threshold = 0;
        options.org_fail_threshold = 0;
        AuthThrottle t(options);
        CHECK_FALSE(t.enabled());
        for (int i = 0; i < 1000; ++i) {
            t.failure("192.0.2.7", kOrg, kStart);
        }
        CHECK(t.check("192.0.2.7", kOrg, kStart).allowed);
        CHECK(t.addresses().tracked_keys() == 0);
        CHECK(t.organizations().tracked_keys() == 0);
    }
    SECTION("only the organization level: addresses are scored, never blocked") {
        ThrottleOptions options;
        options.auth_fail_threshold = 0;
        AuthThrottle t(options);
        CHECK(t.enabled());
        for (int i = 0; i < 1000; ++i) {
            REQUIRE_FALSE(t.failure("192.0.2.7", "", kStart).address.blocked);
        }
        CHECK(t.check("192.0.2.7", "", kStart).allowed);
        CHECK(t.addresses().score(AuthThrottle::address_key("192.0.2.7"), kStart) > 999);
        distributed_failures(t, 101, kOrg, kStart);
        CHECK_FALSE(t.check("198.51.100.1", kOrg, kStart).allowed);
        CHECK(t.check("192.0.2.50", kOrg, kStart).allowed);
    }
    SECTION("only the address level") {
        ThrottleOptions options;
        options.org_fail_threshold = 0;
        AuthThrottle t(options);
        distributed_failures(t, 250, kOrg, kStart);
        CHECK(t.check("198.51.100.1", kOrg, kStart).allowed);
        CHECK(t.organizations().tracked_keys() == 0);
    }
}
