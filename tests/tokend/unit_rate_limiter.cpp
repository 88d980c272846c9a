// The per-address token bucket, with time injected.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "tokend/rate_limiter.hpp"

using tka::tokend::RateLimiter;
using namespace std::chrono_literals;

TEST_CASE("rate limiter off by default allows everything", "[tokend][unit]") {
    RateLimiter limiter(0, 0);
    auto t = RateLimiter::Clock::time_point{};
    CHECK_FALSE(limiter.enabled());
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(limiter.check("1.2.3.4", t).allowed);
    }
    CHECK(limiter.tracked_clients() == 0);
}

TEST_CASE("rate limiter allows a burst, then the rate", "[tokend][unit]") {
    RateLimiter limiter(2, 3);  // 2/s, bursts of 3
    auto t = RateLimiter::Clock::time_point{} + 100s;
    CHECK(limiter.check("a", t).allowed);
    CHECK(limiter.check("a", t).allowed);
    CHECK(limiter.check("a", t).allowed);
    auto denied = limiter.check("a", t);
    CHECK_FALSE(denied.allowed);
    CHECK(denied.retry_after_seconds == 1);

    // Another address has its own bucket.
    CHECK(limiter.check("b", t).allowed);

    // Half a second refills one token at 2/s.
    CHECK(limiter.check("a", t + 500ms).allowed);
    CHECK_FALSE(limiter.check("a", t + 500ms).allowed);
    // After a long pause the bucket is full again, but never more than the burst.
    auto later = t + 1h;
    CHECK(limiter.check("a", later).allowed);
    CHECK(limiter.check("a", later).allowed);
    CHECK(limiter.check("a", later).allowed);
    CHECK_FALSE(limiter.check("a", later).allowed);
}

TEST_CASE("rate limiter Retry-After rounds up to whole seconds", "[tokend][unit]") {
    RateLimiter limiter(0.1, 1);  // one request per 10 s
    auto t = RateLimiter::Clock::time_point{} + 100s;
    CHECK(limiter.check("a", t).allowed);
    auto d = limiter.check("a", t + 1s);
    CHECK_FALSE(d.allowed);
    CHECK(d.retry_after_seconds == 9);
}

TEST_CASE("rate limiter keeps a bounded number of clients", "[tokend][unit]") {
    RateLimiter limiter(1, 1, 100);
    auto t = RateLimiter::Clock::time_point{} + 100s;
    for (int i = 0; i < 1000; ++i) {
        limiter.check("client-" + std::to_string(i), t);
        REQUIRE(limiter.tracked_clients() <= 100);
    }
    // The most recent client is still tracked (and limited).
    CHECK_FALSE(limiter.check("client-999", t).allowed);
    // Idle buckets that refilled are dropped first when space is needed.
    auto later = t + 10s;
    CHECK(limiter.check("newcomer", later).allowed);
    CHECK(limiter.tracked_clients() <= 100);
}
