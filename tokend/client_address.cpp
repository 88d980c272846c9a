// The client address behind trusted reverse proxies (see client_address.hpp).
#include "tokend/client_address.hpp"

#include <cstring>

namespace tka::tokend {

namespace {

// The address the header names, or nullopt when an entry is not an address.
std::optional<IpAddress> from_header(std::string_view list, const IpRangeSet& trusted) {
    std::optional<IpAddress> leftmost;
    while (true) {
        const auto comma = list.rfind(',');
        const std::string_view entry =
            trim_blanks(comma == std::string_view::npos ? list : list.substr(comma + 1));
        auto address = parse_ip(entry);
        if (!address) {
            return std::nullopt;
        }
        if (!trusted.contains(*address)) {
            return address;
        }
        leftmost = address;
        if (comma == std::string_view::npos) {
            return leftmost;
        }
        list = list.substr(0, comma);
    }
}

}  // namespace

std::string client_address(std::string_view peer_address,
                           std::optional<std::string_view> header_value, const ProxyConfig& proxy) {
    auto peer = parse_ip(peer_address);
    if (!peer) {
        return std::string(peer_address);
    }
    if (proxy.enabled() && header_value && proxy.trusted_proxies.contains(*peer)) {
        if (auto client = from_header(*header_value, proxy.trusted_proxies)) {
            return client->to_string();
        }
    }
    return peer->to_string();
}

bool valid_header_name(std::string_view name) {
    if (name.empty() || name.size() > 64) {
        return false;
    }
    for (char c : name) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (c == '\0' || std::strchr("!#$%&'*+-.^_`|~", c) == nullptr)) {
            return false;
        }
    }
    return true;
}

}  // namespace tka::tokend
