// $SYS metrics: the topics and payloads of one publication (sys_messages) and when
// publications are due (SysSchedule), without a broker.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "plugin/sys_metrics.hpp"

using tka::plugin::ReplicaStats;
using tka::plugin::sys_messages;
using tka::plugin::sys_topic_names;
using tka::plugin::SysSchedule;
using tka::plugin::SysSnapshot;

namespace {

std::map<std::string, std::string> by_topic(const SysSnapshot& s) {
    std::map<std::string, std::string> out;
    for (const auto& m : sys_messages(s)) {
        CHECK(out.emplace(m.topic, m.payload).second);  // no topic twice
    }
    return out;
}

}  // namespace

TEST_CASE("sys metrics: every counter under $SYS/broker/token-auth/", "[plugin][sys]") {
    SysSnapshot s;
    s.counters.auth_allowed = 7;
    s.counters.auth_denied = 5;
    s.counters.auth_deferred = 2;
    s.counters.auth_delayed = 1;
    s.counters.replica_hits = 6;
    s.counters.replica_misses = 3;
    s.counters.replica_untrusted = 4;
    s.counters.auth_redis_failures = 1;
    s.counters.kicks = 3;
    for (int i = 0; i < 4; ++i) {
        s.counters.refused_by_reason.add(tka::Refusal::unknown_token);
    }
    s.counters.refused_by_reason.add(tka::Refusal::redis_unavailable);
    s.counters.kicks_by_reason.add(tka::Refusal::expired);
    s.counters.kicks_by_reason.add(tka::Refusal::expired);
    s.counters.kicks_by_reason.add(tka::Refusal::revoked);
    ReplicaStats replica;
    replica.entries = 1234;
    replica.trusted = true;
    s.replica = replica;
    s.connections = 9;

    const auto m = by_topic(s);
    const std::string p = "$SYS/broker/token-auth/";
    CHECK(m.at(p + "connects/accepted") == "7");
    CHECK(m.at(p + "connects/refused") == "5");
    CHECK(m.at(p + "connects/deferred") == "2");
    CHECK(m.at(p + "connects/delayed") == "1");
    CHECK(m.at(p + "connects/refused/unknown_token") == "4");
    CHECK(m.at(p + "connects/refused/redis_unavailable") == "1");
    CHECK(m.at(p + "replica/hits") == "6");
    CHECK(m.at(p + "replica/misses") == "3");
    CHECK(m.at(p + "replica/untrusted") == "4");
    CHECK(m.at(p + "replica/fallbacks") == "7");
    CHECK(m.at(p + "replica/tokens") == "1234");
    CHECK(m.at(p + "replica/trusted") == "1");
    CHECK(m.at(p + "redis/failures") == "1");
    CHECK(m.at(p + "kicks") == "3");
    CHECK(m.at(p + "kicks/expired") == "2");
    CHECK(m.at(p + "kicks/revoked") == "1");
    CHECK(m.at(p + "connections") == "9");
    // Every table topic is published (the replica is on here), plus one per reason.
    CHECK(m.size() == sys_topic_names().size() + 4);
}

TEST_CASE("sys metrics: replica topics only with the replica on", "[plugin][sys]") {
    SysSnapshot s;
    const auto off = by_topic(s);
    CHECK(off.count("$SYS/broker/token-auth/replica/tokens") == 0);
    CHECK(off.count("$SYS/broker/token-auth/replica/trusted") == 0);
    CHECK(off.at("$SYS/broker/token-auth/replica/hits") == "0");
    CHECK(off.at("$SYS/broker/token-auth/connects/accepted") == "0");

    s.replica = ReplicaStats{};
    const auto on = by_topic(s);
    CHECK(on.at("$SYS/broker/token-auth/replica/tokens") == "0");
    CHECK(on.at("$SYS/broker/token-auth/replica/trusted") == "0");
}

TEST_CASE("sys metrics: every reason is one well-formed topic level", "[plugin][sys]") {
    SysSnapshot s;
    for (const tka::Refusal reason : tka::kAllRefusals) {
        s.counters.kicks_by_reason.add(reason);
    }
    const auto m = by_topic(s);
    for (const tka::Refusal reason : tka::kAllRefusals) {
        std::string topic = "$SYS/broker/token-auth/kicks/";
        topic.append(tka::refusal_name(reason));
        CHECK(m.at(topic) == "1");
    }
    for (const auto& [topic, payload] : m) {
        CHECK(topic.find_first_of("+#") == std::string::npos);
    }
}

TEST_CASE("sys metrics: table topics are distinct and well formed", "[plugin][sys]") {
    std::map<std::string_view, int> seen;
    for (const auto name : sys_topic_names()) {
        CAPTURE(name);
        CHECK(++seen[name] == 1);
        CHECK_FALSE(name.empty());
        CHECK(name.find_first_of("+#$") == std::string_view::npos);
        CHECK(name.front() != '/');
        CHECK(name.back() != '/');
    }
}

TEST_CASE("sys metrics: the schedule", "[plugin][sys]") {
    SECTION("first TICK, then once per interval; a late TICK does not double it") {
        SysSchedule s(std::chrono::seconds(10));
        CHECK(s.enabled());
        CHECK(s.due(1000));
        CHECK_FALSE(s.due(1001));
        CHECK_FALSE(s.due(10999));
        CHECK(s.due(11000));
        CHECK_FALSE(s.due(11100));
        CHECK(s.due(25000));  // late
        CHECK_FALSE(s.due(34999));
        CHECK(s.due(35000));
    }
    SECTION("0 never publishes") {
        SysSchedule s(std::chrono::seconds(0));
        CHECK_FALSE(s.enabled());
        CHECK_FALSE(s.due(0));
        CHECK_FALSE(s.due(1000000));
    }
}
