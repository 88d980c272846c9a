// Which address a request comes from, when tokend may sit behind reverse proxies
// (--trusted-proxy, --client-address-header). This address is what the failure throttle,
// the rate limiter and the access log key on.
//
// A header naming the client is believed only when the TCP peer itself is a trusted
// proxy: anyone can send "X-Forwarded-For: 127.0.0.1", so from any other peer the header
// is ignored and the peer address is the client.
//
// From a trusted proxy the header is read as a comma-separated list of addresses, oldest
// hop first, each proxy appending the address it received the request from
// (X-Forwarded-For; X-Real-IP is the one-element case). Only the right end of the list
// was written by our proxies, the left may be anything the client sent, so the list is
// walked from the right: addresses that are themselves trusted proxies are skipped (a
// chain of proxies), the first address that is not is the client. If every address is a
// trusted proxy, the leftmost one is the client. An entry that is not a bare IP address
// (empty, "unknown", "1.2.3.4:5678", RFC 7239 "for=" syntax, garbage) stops the walk and
// the request is attributed to the peer: a misconfigured or spoofed header never yields
// an address tokend cannot key on, it only loses the proxy's information.
//
// Addresses come back in one canonical form (common/ip_address.hpp): IPv4-mapped IPv6 as IPv4,
// IPv6 compressed lower-case. A peer address that does not parse is returned unchanged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ip_address.hpp"

namespace tka::tokend {

struct ProxyConfig {
    IpRangeSet trusted_proxies;  // --trusted-proxy: peers whose header is believed
    std::string header;          // --client-address-header, e.g. "X-Forwarded-For"; "" = none

    bool enabled() const { return !header.empty() && !trusted_proxies.empty(); }
};

// header_value: the configured header of the request, nullopt when absent. A request
// carrying the header several times: join the values with "," in the order received.
std::string client_address(std::string_view peer_address,
                           std::optional<std::string_view> header_value, const ProxyConfig& proxy);

// An HTTP field name (RFC 9110 token): 1 to 64 characters of letters, digits and
// !#$%&'*+-.^_`|~.
bool valid_header_name(std::string_view name);

}  // namespace tka::tokend
