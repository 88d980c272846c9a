// The client address behind trusted reverse proxies: the header is believed only from a
// trusted peer, walked from the right, and never yields anything but an address.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <variant>

#include "tokend/client_address.hpp"

using namespace tka::tokend;
using tka::IpRangeSet;

namespace {

ProxyConfig proxies(std::vector<std::string> ranges, std::string header = "X-Forwarded-For") {
    auto parsed = IpRangeSet::parse(ranges);
    REQUIRE(std::holds_alternative<IpRangeSet>(parsed));
    return ProxyConfig{std::get<IpRangeSet>(parsed), std::move(header)};
}

}  // namespace

TEST_CASE("client address: without proxies, the peer", "[tokend][unit]") {
    const ProxyConfig none;
    CHECK_FALSE(none.enabled());
    CHECK(client_address("192.0.2.7", std::nullopt, none) == "192.0.2.7");
    CHECK(client_address("192.0.2.7", "203.0.113.9", none) == "192.0.2.7");
    // Normalised either way.
    CHECK(client_address("::ffff:192.0.2.7", std::nullopt, none) == "192.0.2.7");
    CHECK(client_address("2001:DB8::0:1", std::nullopt, none) == "2001:db8::1");
    // A peer that is not an IP address is passed through.
    CHECK(client_address("unix:/run/tokend.sock", std::nullopt, none) == "unix:/run/tokend.sock");
}

TEST_CASE("client address: a header from an untrusted peer is ignored", "[tokend][unit]") {
    const auto p = proxies({"10.0.0.0/8"});
    CHECK(client_address("192.0.2.7", "127.0.0.1", p) == "192.0.2.7");
    CHECK(client_address("192.0.2.7", "10.0.0.5, 127.0.0.1", p) == "192.0.2.7");
    // Trusting only a header name, without ranges, trusts nobody.
    ProxyConfig header_only;
    header_only.header = "X-Forwarded-For";
    CHECK_FALSE(header_only.enabled());
    CHECK(client_address("10.0.0.1", "203.0.113.9", header_only) == "10.0.0.1");
}

TEST_CASE("client address: a trusted peer's header names the client", "[tokend][unit]") {
    const auto p = proxies({"10.0.0.0/8", "2001:db8:ffff::/48"});
    CHECK(client_address("10.0.0.1", "203.0.113.9", p) == "203.0.113.9");
    CHECK(client_address("10.0.0.1", " 203.0.113.9 ", p) == "203.0.113.9");
    CHECK(client_address("::ffff:10.0.0.1", "::ffff:203.0.113.9", p) == "203.0.113.9");
    CHECK(client_address("2001:db8:ffff::1", "2001:DB8:1::0:5", p) == "2001:db8:1::5");
    // No header on this request: the peer.
    CHECK(client_address("10.0.0.1", std::nullopt, p) == "10.0.0.1");
}

TEST_CASE("client address: a header that is not an address falls back to the peer",
          "[tokend][unit]") {
    const auto p = proxies({"10.0.0.0/8"});
    auto header =
        GENERATE(as<std::string>{}, "", " ", ",", "unknown", "garbage", "203.0.113.9:4711",
                 "[2001:db8::1]", "for=203.0.113.9", "203.0.113.9, unknown", "203.0.113.9,",
                 "203.0.113.9 10.0.0.2", "203.0.113.9, 10.0.0.2, not-an-address", "localhost");
    CAPTURE(header);
    CHECK(client_address("10.0.0.1", header, p) == "10.0.0.1");
}

TEST_CASE("client address: multi-hop lists are walked from the right", "[tokend][unit]") {
    const auto p = proxies({"10.0.0.0/8"});
    // Two of our proxies appended their peers: the client is the first untrusted address.
    CHECK(client_address("10.0.0.3", "203.0.113.9, 10.0.0.2, 10.0.0.1", p) == "203.0.113.9");
    // The client prepended its own entries: they are left of the client and never read.
    CHECK(client_address("10.0.0.3", "127.0.0.1, 198.51.100.1, 203.0.113.9, 10.0.0.2", p) ==
          "203.0.113.9");
    CHECK(client_address("10.0.0.3", "garbage, 203.0.113.9", p) == "203.0.113.9");
    // Without spaces, and a chain where a client-sent "trusted" address sits left of the client.
    CHECK(client_address("10.0.0.3", "10.9.9.9,203.0.113.9,10.0.0.2", p) == "203.0.113.9");
    // Every hop is one of our proxies: the leftmost one is the client.
    CHECK(client_address("10.0.0.3", "10.0.0.7, 10.0.0.2", p) == "10.0.0.7");
}

TEST_CASE("client address: the examples of docs/http-api.md", "[tokend][unit]") {
    const auto nginx = proxies({"10.0.0.5"});
    CHECK(client_address("10.0.0.5", "127.0.0.1, 203.0.113.9", nginx) == "203.0.113.9");
    const auto two = proxies({"10.0.0.4,10.0.0.5"});
    CHECK(client_address("10.0.0.5", "127.0.0.1, 203.0.113.9, 10.0.0.4", two) == "203.0.113.9");
    // Directly from a client, the same header is ignored.
    CHECK(client_address("203.0.113.9", "127.0.0.1", nginx) == "203.0.113.9");
}

TEST_CASE("client address: header names", "[tokend][unit]") {
    CHECK(valid_header_name("X-Forwarded-For"));
    CHECK(valid_header_name("X-Real-IP"));
    CHECK(valid_header_name("CF-Connecting-IP"));
    CHECK(valid_header_name("x_client~ip!"));
    CHECK_FALSE(valid_header_name(""));
    CHECK_FALSE(valid_header_name("X Forwarded For"));
    CHECK_FALSE(valid_header_name("X-Forwarded-For:"));
    CHECK_FALSE(valid_header_name("X-Forwarded-For\r\n"));
    CHECK_FALSE(valid_header_name(std::string("X\0Y", 3)));
    CHECK_FALSE(valid_header_name("(X)"));
    CHECK_FALSE(valid_header_name(std::string(65, 'X')));
}
