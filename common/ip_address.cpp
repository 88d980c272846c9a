// Parsing and matching of IP addresses and CIDR ranges (see ip_address.hpp).
#include "common/ip_address.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace tka {

namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const IpAddress& a) {
    return a.family == IpAddress::Family::v6 &&
           std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), a.bytes.begin());
}

IpAddress unmapped(const IpAddress& a) {
    IpAddress v4;
    std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
    return v4;
}

// Text from the command line, fit to be quoted in a one-line message: control characters
// replaced, at most 64 characters.
std::string printable(std::string_view text) {
    std::string out(text.substr(0, 64));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = '?';
        }
    }
    if (text.size() > 64) {
        out += "...";
    }
    return out;
}

// A decimal prefix length: 1 to 3 digits, no leading zero except "0" itself.
std::optional<int> parse_prefix(std::string_view text) {
    if (text.empty() || text.size() > 3 || (text.size() > 1 && text.front() == '0')) {
        return std::nullopt;
    }
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

}  // namespace

std::string_view trim_blanks(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!s.empty() && blank(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && blank(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::string IpAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    const int af = family == Family::v4 ? AF_INET : AF_INET6;
    if (inet_ntop(af, bytes.data(), text, sizeof text) == nullptr) {
        return {};
    }
    return text;
}

IpAddress IpAddress::masked(int prefix) const {
    IpAddress out = *this;
    const int total = bits();
    prefix = std::clamp(prefix, 0, total);
    for (int byte = 0; byte < total / 8; ++byte) {
        const int keep = std::clamp(prefix - byte * 8, 0, 8);
        const auto mask = static_cast<std::uint8_t>(0xff00u >> keep);
        out.bytes[byte] = static_cast<std::uint8_t>(out.bytes[byte] & mask);
    }
    return out;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
    // Longer than any literal (INET6_ADDRSTRLEN counts the NUL), or cut short by a NUL
    // that inet_pton would stop at: not an address.
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
        text.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    char buffer[INET6_ADDRSTRLEN] = {};
    std::memcpy(buffer, text.data(), text.size());
    IpAddress a;
    if (inet_pton(AF_INET, buffer, a.bytes.data()) == 1) {
        return a;
    }
    a.family = IpAddress::Family::v6;
    if (inet_pton(AF_INET6, buffer, a.bytes.data()) == 1) {
        return is_v4_mapped(a) ? unmapped(a) : a;
    }
    return std::nullopt;
}

bool IpRange::contains(const IpAddress& address) const {
    return address.family == network.family && address.masked(prefix) == network;
}

std::string IpRange::to_string() const {
    return fmt::format("{}/{}", network.to_string(), prefix);
}

std::variant<IpRange, std::string> parse_ip_range(std::string_view text) {
    const auto slash = text.find('/');
    const std::string_view address_text = text.substr(0, slash);
    // The prefix is read against the address as written ("::ffff:10.0.0.0/104" counts 128
    // bits), then a mapped range is folded to its IPv4 range.
    std::optional<IpAddress> address = parse_ip(address_text);
    if (!address) {
        return fmt::format("'{}' is not an IPv4 or IPv6 address or range", printable(text));
    }
    const bool written_as_v6 = address_text.find(':') != std::string_view::npos;
    const int written_bits = written_as_v6 ? 128 : 32;
    int prefix = written_bits;
    if (slash != std::string_view::npos) {
        auto parsed = parse_prefix(text.substr(slash + 1));
        if (!parsed || *parsed > written_bits) {
            return fmt::format("'{}': the prefix length must be 0 to {}", printable(text),
                               written_bits);
        }
        prefix = *parsed;
    }
    if (written_as_v6 && address->family == IpAddress::Family::v4) {
        // An IPv4-mapped range: the IPv4 range, if the prefix covers the ::ffff:0:0/96 part.
        if (prefix < 96) {
            return fmt::format(
                "'{}': a range of IPv4-mapped addresses needs a prefix of at least 96 "
                "(better: write the IPv4 range)",
                printable(text));
        }
        prefix -= 96;
    }
    IpRange range{address->masked(prefix), prefix};
    if (range.network != *address) {
        return fmt::format("'{}' has host bits set (the network is {})", printable(text),
                           range.to_string());
    }
    return range;
}

std::variant<IpRangeSet, std::string> IpRangeSet::parse(const std::vector<std::string>& values) {
    IpRangeSet set;
    for (std::string_view value : values) {
        while (true) {
            const auto comma = value.find(',');
            const std::string_view entry = trim_blanks(value.substr(0, comma));
            if (entry.empty()) {
                return std::string("empty entry in an address list");
            }
            auto parsed = parse_ip_range(entry);
            if (auto* error = std::get_if<std::string>(&parsed)) {
                return *error;
            }
            set.ranges_.push_back(std::get<IpRange>(parsed));
            if (comma == std::string_view::npos) {
                break;
            }
            value.remove_prefix(comma + 1);
        }
    }
    return set;
}

bool IpRangeSet::contains(const IpAddress& address) const {
    return std::any_of(ranges_.begin(), ranges_.end(),
                       [&](const IpRange& r) { return r.contains(address); });
}

bool IpRangeSet::contains(std::string_view address) const {
    if (ranges_.empty()) {
        return false;
    }
    auto parsed = parse_ip(address);
    return parsed && contains(*parsed);
}

std::string client_key(std::string_view address) {
    auto ip = parse_ip(address);
    std::string key;
    if (!ip) {
        key.reserve(65);
        key += '?';
        key += address.substr(0, 64);
        return key;
    }
    if (ip->family == IpAddress::Family::v6) {
        key = ip->masked(64).to_string();
        key += "/64";
        return key;
    }
    return ip->to_string();
}

}  // namespace tka
