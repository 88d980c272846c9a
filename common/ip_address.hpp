// IP addresses and CIDR ranges, for the lists an operator gives tokend: addresses never
// throttled (--throttle-allow) and reverse proxies whose client-address header is believed
// (--trusted-proxy); and the key under which a client address is counted by tokend's
// failure throttling and the broker plugin's backoff (client_key).
//
// Parsing is strict and goes through inet_pton: an address is a bare IPv4 dotted quad or
// an IPv6 literal, without brackets, port or zone ("fe80::1%eth0" is refused). A range is
// ADDRESS/PREFIX with a decimal prefix of 0..32 (IPv4) or 0..128 (IPv6), no sign and no
// leading zeros; a bare address is the range of that one address (/32, /128). A range
// with host bits set ("10.0.0.1/8") is refused and the message names the network that
// was probably meant: in a security setting a typo must not silently widen or narrow a
// range.
//
// One form per address: an IPv4-mapped IPv6 address (::ffff:192.0.2.7, what a dual-stack
// socket reports for an IPv4 client) is the IPv4 address, and a range inside
// ::ffff:0:0/96 is the corresponding IPv4 range. IPv6 ranges match IPv6 clients only, so
// "::/0" means every IPv6 client, not every client.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tka {

struct IpAddress {
    enum class Family : std::uint8_t { v4, v6 };
    Family family = Family::v4;
    std::array<std::uint8_t, 16> bytes{};  // network byte order; IPv4 uses the first 4

    int bits() const { return family == Family::v4 ? 32 : 128; }
    // Canonical text (inet_ntop): "192.0.2.7", "2001:db8::1".
    std::string to_string() const;
    // The address with every bit after the first `prefix` cleared.
    IpAddress masked(int prefix) const;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// A literal address, IPv4-mapped IPv6 folded to IPv4; nullopt for anything else.
std::optional<IpAddress> parse_ip(std::string_view text);

// The key of a client address for per-client accounting (common/failure_throttle.hpp):
// IPv4 as is ("192.0.2.7"), IPv6 by its /64 ("2001:db8:1:2::/64"): one IPv6 host is normally
// given a whole /64 and can use a new address for every request, so keying on full IPv6
// addresses would give it a fresh score each time. Text that is not an address (a peer the
// socket could not name; on a Mosquitto websockets listener, whatever the client sent as
// X-Forwarded-For) is "?" + its first 64 bytes: bounded, and never merged with an IP key.
std::string client_key(std::string_view address);

struct IpRange {
    IpAddress network;  // host bits are zero
    int prefix = 0;     // leading bits that must match: 0..32 (IPv4), 0..128 (IPv6)

    bool contains(const IpAddress& address) const;
    std::string to_string() const;  // "10.0.0.0/8", "2001:db8::/32"

    friend bool operator==(const IpRange&, const IpRange&) = default;
};

// Spaces and tabs removed from both ends: the blanks around list entries, as in
// "10.0.0.0/8, 192.0.2.7" or "203.0.113.9, 10.0.0.2".
std::string_view trim_blanks(std::string_view text);

// One range ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7"), or a one-line error message.
std::variant<IpRange, std::string> parse_ip_range(std::string_view text);

// A list of ranges, as given to a flag: each value may hold several comma-separated
// ranges; blanks around a range are ignored, an empty entry is an error.
class IpRangeSet {
  public:
    static std::variant<IpRangeSet, std::string> parse(const std::vector<std::string>& values);

    bool contains(const IpAddress& address) const;
    // False for text that is not an address.
    bool contains(std::string_view address) const;
    bool empty() const { return ranges_.empty(); }
    const std::vector<IpRange>& ranges() const { return ranges_; }

  private:
    std::vector<IpRange> ranges_;
};

}  // namespace tka
