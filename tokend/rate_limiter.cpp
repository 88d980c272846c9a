// Token-bucket rate limiting per remote address (see rate_limiter.hpp).
#include "tokend/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace tka::tokend {

RateLimiter::RateLimiter(double rate_per_second, double burst, std::size_t max_clients)
    : rate_(std::max(0.0, rate_per_second)),
      burst_(std::max(1.0, burst)),
      max_clients_(std::max<std::size_t>(1, max_clients)) {}

std::size_t RateLimiter::tracked_clients() const {
    std::lock_guard lock(mutex_);
    return buckets_.size();
}

void RateLimiter::refill(Bucket& b, Clock::time_point now) const {
    if (now > b.last) {
        double elapsed = std::chrono::duration<double>(now - b.last).count();
        b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
        b.last = now;
    }
}

void RateLimiter::evict(Clock::time_point now) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        refill(it->second, now);
        if (it->second.tokens >= burst_) {
            it = buckets_.erase(it);
        } else {
            ++it;
        }
    }
    while (buckets_.size() >= max_clients_) {
        auto oldest = std::min_element(buckets_.begin(), buckets_.end(), [](auto& a, auto& b) {
            return a.second.last < b.second.last;
        });
        buckets_.erase(oldest);
    }
}

RateLimiter::Decision RateLimiter::check(const std::string& client, Clock::time_point now) {
    if (!enabled()) {
        return {};
    }
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(client);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_clients_) {
            evict(now);
        }
        it = buckets_.emplace(client, Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    refill(b, now);
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return {};
    }
    double wait = (1 - b.tokens) / rate_;
    return {false, std::max(1, static_cast<int>(std::ceil(wait)))};
}

}  // namespace tka::tokend
