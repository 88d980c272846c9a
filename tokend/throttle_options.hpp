// The settings of failure throttling (tokend/auth_throttle.hpp), the allow-list shared with
// the rate limiter, and the reverse-proxy settings that decide the client address
// (tokend/client_address.hpp). Flags and defaults: docs/http-api.md, "Throttling of
// failed authentication".
#pragma once

#include <cstddef>

#include "common/ip_address.hpp"
#include "tokend/client_address.hpp"

namespace tka::tokend {

struct ThrottleOptions {
    int auth_fail_threshold = 30;           // failure score per client address; 0 = off
    double auth_fail_halflife_s = 60;       // seconds for a failure score to halve
    int auth_fail_penalty_s = 10;           // first block, seconds; doubles per further block
    int auth_fail_max_penalty_s = 900;      // longest block, seconds
    int org_fail_threshold = 100;           // failure score per organization; 0 = off
    std::size_t max_tracked_keys = 100000;  // per level (addresses, organizations); no flag
    IpRangeSet allow;                       // never throttled, nor rate limited (--throttle-allow)
    ProxyConfig proxy;                      // --trusted-proxy, --client-address-header
};

}  // namespace tka::tokend
