// The policy of failure throttling in tokend's request path, over two FailureThrottles
// (common/failure_throttle.hpp): one keyed by client address, one by organization. The
// request path asks check() before the credential check, and reports each outcome:
// failure() after a 401, success() when the credentials were right.
//
// Keys. "addr:" + the client address's key (client_address.hpp gives the address,
// proxy-aware; common/ip_address.hpp's client_key: IPv4 as is, "addr:192.0.2.7", IPv6 by
// its /64, "addr:2001:db8:1:2::/64", so that a host cycling through its /64 does not get a
// fresh score each time and churn the table). Backends sharing one /64 share one score,
// as backends behind one NAT share an IPv4 address; allow-list them if their failures
// should not count. "org:" + organization id.
//
// Address level (--auth-fail-threshold, default 30): every 401 (invalid_client on create
// and revoke, invalid_grant on refresh) counts for the address that caused it; a blocked
// address gets 429 on create, refresh and revoke.
//
// Organization level (--org-fail-threshold, default 100): a 401 on create or revoke that
// names a well-formed organization id also counts for that organization. This catches a
// guesser spread over many addresses, each one under the address threshold. But a block
// of the organization must not lock out its own backends, which present the right key:
// a blocked organization refuses only requests from addresses that have failed recently
// themselves (an address score of at least kSuspectScore = 0.5: a failure within about
// one half-life). A backend without failures is never throttled because of its
// organization; one that failed once during an attack waits until its own failure has
// decayed (about a minute) or the block ends, whichever comes first. A guesser spread
// over many addresses gets about one attempt per address per half-life instead of some
// twenty a minute. Successes do not end an organization's penalty growth (its backends
// keep succeeding while it is under attack, which says nothing about the attacker); an
// address's successes do (common/failure_throttle.hpp). The organization's threshold is
// higher than the address's so that one noisy address alone does not block the
// organization.
//
// Allow-list (--throttle-allow): allow-listed addresses are never throttled, and their
// failures count nowhere, not for the organization either: they are the operator's own
// infrastructure, and their mistakes must not throttle anyone else. The rate limiter
// skips them too (exempt()).
//
// A threshold of 0 turns its level off. With only the organization level on, address
// scores are still kept (without blocking), because the organization rule needs them.
#pragma once

#include <string>
#include <string_view>

#include "common/failure_throttle.hpp"
#include "common/ip_address.hpp"
#include "tokend/throttle_options.hpp"

namespace tka::tokend {

class AuthThrottle {
  public:
    using Clock = FailureThrottle::Clock;
    using Decision = FailureThrottle::Decision;

    // An address with at least this score counts as failing for a blocked organization.
    static constexpr double kSuspectScore = 0.5;

    explicit AuthThrottle(const ThrottleOptions& options);

    // Allow-listed: this throttle and the rate limiter leave the address alone.
    bool exempt(std::string_view client) const;

    // Before the credential check. `client`: the client address (client_address());
    // `org_id`: the organization the request names, "" when none (refresh); a malformed
    // id counts as none.
    Decision check(std::string_view client, std::string_view org_id, Clock::time_point now) const;

    // After a 401. Says whether this failure started a block, per level.
    struct Outcome {
        FailureThrottle::Outcome address;
        FailureThrottle::Outcome organization;
    };
    Outcome failure(std::string_view client, std::string_view org_id, Clock::time_point now);

    // After a request whose credentials were right (whatever the answer: 200, 403, 404,
    // 410).
    void success(std::string_view client, Clock::time_point now);

    bool enabled() const { return addresses_.enabled() || organizations_.enabled(); }

    static std::string address_key(std::string_view client);
    static std::string org_key(std::string_view org_id);

    // For /metrics: tracked_keys(), blocked_keys(now), blocks_total(), evictions_total().
    const FailureThrottle& addresses() const { return addresses_; }
    const FailureThrottle& organizations() const { return organizations_; }

  private:
    IpRangeSet allow_;
    FailureThrottle addresses_;
    FailureThrottle organizations_;
};

}  // namespace tka::tokend
