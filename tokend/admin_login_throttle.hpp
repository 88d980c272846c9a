// Throttling of failed sign-ins to the dashboard, in memory (common/failure_throttle.hpp),
// per client address and per account name: a browser or script that keeps guessing is
// answered 429 with Retry-After, from memory, before any password hash is computed.
// Generated passwords carry 192 random bits, so nobody guesses one; the throttle keeps a
// guesser from burning the admin workers' CPU (scrypt) and from flooding the audit log.
//
// Per address: more than 10 failures in a burst (score halving every 5 minutes) block the
// address for 30 s, doubling up to 15 minutes. Per name: more than 5 block the name (from
// every address) the same way, so that many addresses cannot share one account's budget.
// A success ends the penalty growth of both keys (not a running block).
#pragma once

#include <string>

#include "common/failure_throttle.hpp"

namespace tka::tokend::admin {

class LoginThrottle {
  public:
    using Clock = FailureThrottle::Clock;

    LoginThrottle();

    // Whether a sign-in from `remote` as `name` may be checked now.
    FailureThrottle::Decision check(const std::string& remote, const std::string& name,
                                    Clock::time_point now) const;
    void failure(const std::string& remote, const std::string& name, Clock::time_point now);
    void success(const std::string& remote, const std::string& name, Clock::time_point now);

  private:
    FailureThrottle addresses_;
    FailureThrottle names_;
};

}  // namespace tka::tokend::admin
