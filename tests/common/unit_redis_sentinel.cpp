// Unit tests of common/redis_sentinel: odd SENTINEL get-master-addr-by-name and ROLE
// replies (nil, errors, wrong types and arities, bad ports) give a reason, never a crash
// or a made-up address.
#include "common/redis_sentinel.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

using tka::RedisValue;
using Type = tka::RedisValue::Type;

namespace {

RedisValue value(Type type, std::string str = {}, long long integer = 0) {
    RedisValue v;
    v.type = type;
    v.str = std::move(str);
    v.integer = integer;
    return v;
}

RedisValue array(std::vector<RedisValue> elements) {
    RedisValue v;
    v.type = Type::array;
    v.elements = std::move(elements);
    return v;
}

RedisValue text(std::string s) {
    return value(Type::string, std::move(s));
}

// The reason parse_master_addr gives, or "<address>" when it accepted the reply.
std::string reason_for(const RedisValue& reply) {
    const auto parsed = tka::parse_master_addr(reply, "mymaster");
    if (const auto* why = std::get_if<std::string>(&parsed)) {
        return *why;
    }
    return "<address>";
}

}  // namespace

TEST_CASE("a well-formed master address is read", "[sentinel]") {
    const auto parsed = tka::parse_master_addr(array({text("10.0.0.7"), text("6380")}), "m");
    REQUIRE(std::holds_alternative<tka::SentinelMaster>(parsed));
    CHECK(std::get<tka::SentinelMaster>(parsed).host == "10.0.0.7");
    CHECK(std::get<tka::SentinelMaster>(parsed).port == 6380);

    const auto v6 = tka::parse_master_addr(array({text("::1"), text("65535")}), "m");
    REQUIRE(std::holds_alternative<tka::SentinelMaster>(v6));
    CHECK(std::get<tka::SentinelMaster>(v6).host == "::1");
    CHECK(std::get<tka::SentinelMaster>(v6).port == 65535);
}

TEST_CASE("odd master address replies are refused with a reason", "[sentinel]") {
    auto [reply, reason] = GENERATE(table<RedisValue, std::string>({
        {value(Type::nil), "sentinel does not know master 'mymaster'"},
        {value(Type::error, "ERR unknown command"), "sentinel answered an error: ERR unknown"},
        {value(Type::integer, {}, 6379), "something other than an address"},
        {text("127.0.0.1:6379"), "something other than an address"},
        {value(Type::status, "OK"), "something other than an address"},
        {array({}), "answered 0 elements instead of host and port"},
        {array({text("h")}), "answered 1 elements"},
        {array({text("h"), text("6379"), text("x")}), "answered 3 elements"},
        {array({value(Type::nil), text("6379")}), "no host"},
        {array({text(""), text("6379")}), "no host"},
        {array({value(Type::integer, {}, 1), text("6379")}), "no host"},
        {array({array({}), text("6379")}), "no host"},
        {array({text("h st"), text("6379")}), "not a name or an address"},
        {array({text("h\r\nx"), text("6379")}), "not a name or an address"},
        {array({text("h"), value(Type::nil)}), "no port"},
        {array({text("h"), value(Type::integer, {}, 6379)}), "no port"},
        {array({text("h"), array({text("6379")})}), "no port"},
        {array({text("h"), text("")}), "not a number in 1..65535"},
        {array({text("h"), text("0")}), "not a number in 1..65535"},
        {array({text("h"), text("65536")}), "not a number in 1..65535"},
        {array({text("h"), text("99999999999")}), "not a number in 1..65535"},
        {array({text("h"), text("-1")}), "not a number in 1..65535"},
        {array({text("h"), text("+80")}), "not a number in 1..65535"},
        {array({text("h"), text("6379x")}), "not a number in 1..65535"},
        {array({text("h"), text(" 6379")}), "not a number in 1..65535"},
        {array({text("h"), text("abc")}), "not a number in 1..65535"},
    }));
    CAPTURE(reason);
    CHECK_THAT(reason_for(reply), Catch::Matchers::Contains(reason));
}

TEST_CASE("ROLE replies give the role or nothing", "[sentinel]") {
    CHECK(tka::parse_role(array({text("master"), value(Type::integer, {}, 3), array({})})) ==
          "master");
    CHECK(tka::parse_role(array({text("slave"), text("10.0.0.1"), value(Type::integer)})) ==
          "slave");
    CHECK(tka::parse_role(array({text("sentinel"), array({text("mymaster")})})) == "sentinel");
    CHECK(tka::parse_role(value(Type::nil)).empty());
    CHECK(tka::parse_role(value(Type::error, "NOPERM this user has no permissions")).empty());
    CHECK(tka::parse_role(text("master")).empty());
    CHECK(tka::parse_role(array({})).empty());
    CHECK(tka::parse_role(array({value(Type::integer, {}, 1)})).empty());
    CHECK(tka::parse_role(array({value(Type::nil)})).empty());
}
