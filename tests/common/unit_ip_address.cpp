// IP addresses and CIDR ranges: strict parsing, one canonical form, matching.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "common/ip_address.hpp"

using namespace tka;
using namespace std::string_literals;

namespace {

std::string canonical(std::string_view text) {
    auto ip = parse_ip(text);
    return ip ? ip->to_string() : "<none>";
}

IpRange range(std::string_view text) {
    auto parsed = parse_ip_range(text);
    if (auto* error = std::get_if<std::string>(&parsed)) {
        FAIL(*error);
    }
    return std::get<IpRange>(parsed);
}

std::string range_error(std::string_view text) {
    auto parsed = parse_ip_range(text);
    auto* error = std::get_if<std::string>(&parsed);
    return error ? *error : "";
}

bool in(std::string_view range_text, std::string_view address) {
    auto ip = parse_ip(address);
    REQUIRE(ip);
    return range(range_text).contains(*ip);
}

}  // namespace

TEST_CASE("addresses parse to one canonical form", "[common][ip]") {
    CHECK(canonical("192.0.2.7") == "192.0.2.7");
    CHECK(canonical("0.0.0.0") == "0.0.0.0");
    CHECK(canonical("2001:DB8:0:0:0:0:0:1") == "2001:db8::1");
    CHECK(canonical("::1") == "::1");
    // A dual-stack socket's IPv4 client is the IPv4 address.
    CHECK(canonical("::ffff:192.0.2.7") == "192.0.2.7");
    CHECK(canonical("::FFFF:c000:0207") == "192.0.2.7");
    CHECK(parse_ip("::ffff:192.0.2.7")->family == IpAddress::Family::v4);
    // Not mapped: stays IPv6.
    CHECK(canonical("::192.0.2.7") == "::192.0.2.7");
    CHECK(canonical("64:ff9b::192.0.2.7") == "64:ff9b::c000:207");
}

TEST_CASE("anything but a bare address is refused", "[common][ip]") {
    auto text =
        GENERATE(as<std::string>{}, "", " ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
                 "1.2.3.04", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4:80", "[::1]", "[::1]:80",
                 "fe80::1%eth0", "::1/128", "1.2.3.4/32", "localhost", "unknown", "0x7f.0.0.1",
                 "1:2:3:4:5:6:7:8:9", ":::", "1.2.3.4\0"s, "1.2.3.4\0x"s, std::string(100, '1'));
    CAPTURE(text);
    CHECK_FALSE(parse_ip(text));
}

TEST_CASE("client keys: IPv4 as is, IPv6 by its /64, anything else bounded", "[common][ip]") {
    CHECK(client_key("192.0.2.7") == "192.0.2.7");
    CHECK(client_key("::ffff:192.0.2.7") == "192.0.2.7");
    CHECK(client_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64");
    CHECK(client_key("2001:DB8:1:2:bbbb::9") == "2001:db8:1:2::/64");
    CHECK(client_key("2001:db8:1:3::1") == "2001:db8:1:3::/64");
    // Not an address (e.g. a raw X-Forwarded-For list): kept apart from IP keys, bounded.
    CHECK(client_key("peer") == "?peer");
    CHECK(client_key("203.0.113.9, 10.0.0.2") == "?203.0.113.9, 10.0.0.2");
    CHECK(client_key(std::string(1000, 'x')) == std::string("?").append(64, 'x'));
}

TEST_CASE("ranges: address/prefix or a single address", "[common][ip]") {
    CHECK(range("10.0.0.0/8").to_string() == "10.0.0.0/8");
    CHECK(range("192.0.2.7").to_string() == "192.0.2.7/32");
    CHECK(range("192.0.2.7/32").to_string() == "192.0.2.7/32");
    CHECK(range("0.0.0.0/0").to_string() == "0.0.0.0/0");
    CHECK(range("2001:DB8::/32").to_string() == "2001:db8::/32");
    CHECK(range("::1").to_string() == "::1/128");
    CHECK(range("::/0").to_string() == "::/0");
    // IPv4-mapped ranges are the IPv4 ranges.
    CHECK(range("::ffff:10.0.0.0/104").to_string() == "10.0.0.0/8");
    CHECK(range("::ffff:192.0.2.7").to_string() == "192.0.2.7/32");
    CHECK(range("::ffff:0.0.0.0/96").to_string() == "0.0.0.0/0");
}

TEST_CASE("ranges: garbage, prefixes out of range and host bits are refused", "[common][ip]") {
    auto text = GENERATE(as<std::string>{}, "", "/8", "garbage", "garbage/8", "10.0.0.0/",
                         "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/8/8",
                         "10.0.0.0/ 8", "10.0.0.0 /8", "10.0.0.0/8a", "10.0.0.0/1000", "::/129",
                         "2001:db8::/0x20", "10.0.0.1/8", "11.0.0.0/7", "2001:db8::1/64",
                         "::ffff:10.0.0.0/80", "::ffff:10.0.0.1/104", "10.0.0.0/8\nX-Injected: 1");
    CAPTURE(text);
    const std::string error = range_error(text);
    CHECK_FALSE(error.empty());
    CHECK(error.find('\n') == std::string::npos);
}

TEST_CASE("ranges: host bits set name the network that was meant", "[common][ip]") {
    CHECK(range_error("10.0.0.1/8").find("10.0.0.0/8") != std::string::npos);
    CHECK(range_error("2001:db8::1/32").find("2001:db8::/32") != std::string::npos);
    CHECK(range_error("10.0.0.0/33").find("0 to 32") != std::string::npos);
    CHECK(range_error("::/129").find("0 to 128") != std::string::npos);
}

TEST_CASE("ranges: matching at the edges", "[common][ip]") {
    CHECK(in("10.0.0.0/8", "10.0.0.0"));
    CHECK(in("10.0.0.0/8", "10.255.255.255"));
    CHECK_FALSE(in("10.0.0.0/8", "11.0.0.0"));
    CHECK_FALSE(in("10.0.0.0/8", "9.255.255.255"));
    // Prefixes that do not end on a byte.
    CHECK(in("192.168.0.0/23", "192.168.1.255"));
    CHECK_FALSE(in("192.168.0.0/23", "192.168.2.0"));
    CHECK(in("2001:db8::/33", "2001:db8:7fff:ffff::1"));
    CHECK_FALSE(in("2001:db8::/33", "2001:db8:8000::"));
    // Single addresses.
    CHECK(in("192.0.2.7", "192.0.2.7"));
    CHECK_FALSE(in("192.0.2.7", "192.0.2.8"));
    CHECK(in("::1", "::1"));
    CHECK_FALSE(in("::1", "::2"));
    // /0 matches its own family only.
    CHECK(in("0.0.0.0/0", "203.0.113.9"));
    CHECK_FALSE(in("0.0.0.0/0", "2001:db8::1"));
    CHECK(in("::/0", "2001:db8::1"));
    CHECK_FALSE(in("::/0", "203.0.113.9"));
    // A mapped client matches the IPv4 range, whichever way either was written.
    CHECK(in("10.0.0.0/8", "::ffff:10.1.2.3"));
    CHECK(in("::ffff:10.0.0.0/104", "10.1.2.3"));
}

TEST_CASE("range lists: commas, blanks and repeated flags", "[common][ip]") {
    auto parsed = IpRangeSet::parse({"10.0.0.0/8, 192.0.2.7", "\t2001:db8::/32 "});
    REQUIRE(std::holds_alternative<IpRangeSet>(parsed));
    const auto& set = std::get<IpRangeSet>(parsed);
    CHECK(set.ranges().size() == 3);
    CHECK(set.contains(std::string_view("10.9.8.7")));
    CHECK(set.contains(std::string_view("192.0.2.7")));
    CHECK(set.contains(std::string_view("2001:db8:1::1")));
    CHECK_FALSE(set.contains(std::string_view("192.0.2.8")));
    CHECK_FALSE(set.contains(std::string_view("not an address")));
    CHECK_FALSE(set.contains(std::string_view("")));

    auto none = IpRangeSet::parse({});
    REQUIRE(std::holds_alternative<IpRangeSet>(none));
    CHECK(std::get<IpRangeSet>(none).empty());
    CHECK_FALSE(std::get<IpRangeSet>(none).contains(std::string_view("10.0.0.1")));

    auto bad = GENERATE(as<std::vector<std::string>>{}, std::vector<std::string>{""},
                        std::vector<std::string>{","}, std::vector<std::string>{"10.0.0.0/8,"},
                        std::vector<std::string>{"10.0.0.0/8,,::1"},
                        std::vector<std::string>{"10.0.0.0/8", " "},
                        std::vector<std::string>{"10.0.0.0/8 192.0.2.7"},
                        std::vector<std::string>{"10.0.0.0/8;192.0.2.7"});
    CAPTURE(bad);
    CHECK(std::holds_alternative<std::string>(IpRangeSet::parse(bad)));
}
