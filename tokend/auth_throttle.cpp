// Address and organization levels of failure throttling (see auth_throttle.hpp).
#include "tokend/auth_throttle.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/identifiers.hpp"

namespace tka::tokend {

namespace {

FailureThrottle::Options level_options(double threshold, const ThrottleOptions& o) {
    FailureThrottle::Options f;
    f.threshold = threshold;
    f.half_life = std::chrono::duration<double>(o.auth_fail_halflife_s);
    f.penalty = std::chrono::seconds(o.auth_fail_penalty_s);
    f.max_penalty = std::chrono::seconds(o.auth_fail_max_penalty_s);
    f.max_keys = o.max_tracked_keys;
    return f;
}

// Off, or infinite (scores kept, never blocking) when only the organization level is on.
double address_threshold(const ThrottleOptions& o) {
    if (o.auth_fail_threshold > 0) {
        return o.auth_fail_threshold;
    }
    return o.org_fail_threshold > 0 ? std::numeric_limits<double>::infinity() : 0;
}

}  // namespace

AuthThrottle::AuthThrottle(const ThrottleOptions& options)
    : allow_(options.allow),
      addresses_(level_options(address_threshold(options), options)),
      organizations_(level_options(options.org_fail_threshold, options)) {}

bool AuthThrottle::exempt(std::string_view client) const {
    return allow_.contains(client);
}

std::string AuthThrottle::address_key(std::string_view client) {
    std::string key = "addr:";
    key += client_key(client);
    return key;
}

std::string AuthThrottle::org_key(std::string_view org_id) {
    return "org:" + std::string(org_id);
}

AuthThrottle::Decision AuthThrottle::check(std::string_view client, std::string_view org_id,
                                           Clock::time_point now) const {
    if (!enabled() || exempt(client)) {
        return {};
    }
    const std::string key = address_key(client);
    if (auto own = addresses_.check(key, now); !own.allowed) {
        return own;
    }
    if (!organizations_.enabled() || !ids::is_org_id(org_id)) {
        return {};
    }
    const Decision org = organizations_.check(org_key(org_id), now);
    if (org.allowed) {
        return {};
    }
    const double score = addresses_.score(key, now);
    if (score < kSuspectScore) {
        return {};
    }
    // Allowed again when the organization's block ends or the address's own score has
    // decayed below kSuspectScore, whichever comes first.
    const double half_life_s = addresses_.options().half_life.count();
    const double suspect_s = half_life_s * std::log2(score / kSuspectScore);
    const int suspect_retry = std::max(1, static_cast<int>(std::ceil(suspect_s)));
    return {false, std::min(org.retry_after_seconds, suspect_retry)};
}

AuthThrottle::Outcome AuthThrottle::failure(std::string_view client, std::string_view org_id,
                                            Clock::time_point now) {
    Outcome out;
    if (!enabled() || exempt(client)) {
        return out;
    }
    out.address = addresses_.failure(address_key(client), now);
    if (organizations_.enabled() && ids::is_org_id(org_id)) {
        out.organization = organizations_.failure(org_key(org_id), now);
    }
    return out;
}

void AuthThrottle::success(std::string_view client, Clock::time_point now) {
    if (!enabled() || exempt(client)) {
        return;
    }
    addresses_.success(address_key(client), now);
}

}  // namespace tka::tokend
