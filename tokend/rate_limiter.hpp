// Per-client token buckets: each remote address may make `rate` requests per second on
// average, with bursts of up to `burst`. Time is passed in (`now`) so tests drive it.
// The map of buckets is bounded: when full, buckets that have refilled completely (they
// carry no information) are dropped first, then the least recently seen one.
// Disabled (always allows) when rate is 0.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tka::tokend {

class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;

    RateLimiter(double rate_per_second, double burst, std::size_t max_clients = 10000);

    struct Decision {
        bool allowed = true;
        int retry_after_seconds = 0;  // whole seconds (>= 1) until one request is allowed
    };

    Decision check(const std::string& client, Clock::time_point now);

    bool enabled() const { return rate_ > 0; }
    std::size_t tracked_clients() const;

  private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point last;
    };
    void refill(Bucket& b, Clock::time_point now) const;
    void evict(Clock::time_point now);

    double rate_;   // tokens per second
    double burst_;  // bucket capacity
    std::size_t max_clients_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace tka::tokend
