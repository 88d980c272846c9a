// Sign-in throttling of the dashboard (see admin_login_throttle.hpp).
#include "tokend/admin_login_throttle.hpp"

#include <algorithm>

namespace tka::tokend::admin {

namespace {

FailureThrottle::Options options(double threshold) {
    FailureThrottle::Options o;
    o.threshold = threshold;
    o.half_life = std::chrono::minutes(5);
    o.penalty = std::chrono::seconds(30);
    o.max_penalty = std::chrono::minutes(15);
    o.max_keys = 10000;
    return o;
}

// Keys bounded in size whatever a client types as its name.
std::string name_key(const std::string& name) {
    return name.substr(0, 128);
}

}  // namespace

LoginThrottle::LoginThrottle() : addresses_(options(10)), names_(options(5)) {}

FailureThrottle::Decision LoginThrottle::check(const std::string& remote, const std::string& name,
                                               Clock::time_point now) const {
    auto by_address = addresses_.check(remote, now);
    auto by_name = names_.check(name_key(name), now);
    if (by_address.allowed) {
        return by_name;
    }
    if (!by_name.allowed) {
        by_address.retry_after_seconds =
            std::max(by_address.retry_after_seconds, by_name.retry_after_seconds);
    }
    return by_address;
}

void LoginThrottle::failure(const std::string& remote, const std::string& name,
                            Clock::time_point now) {
    addresses_.failure(remote, now);
    names_.failure(name_key(name), now);
}

void LoginThrottle::success(const std::string& remote, const std::string& name,
                            Clock::time_point now) {
    addresses_.success(remote, now);
    names_.success(name_key(name), now);
}

}  // namespace tka::tokend::admin
