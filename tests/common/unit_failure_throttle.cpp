// Decaying failure scores and doubling blocks per key, with time injected.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/failure_throttle.hpp"

using tka::FailureThrottle;
using namespace std::chrono_literals;

namespace {

const FailureThrottle::Clock::time_point kStart = FailureThrottle::Clock::time_point{} + 1000s;

// `n` failures of `key` at `now`; returns the last outcome.
FailureThrottle::Outcome fail(FailureThrottle& t, const std::string& key, int n,
                              FailureThrottle::Clock::time_point now) {
    FailureThrottle::Outcome last;
    for (int i = 0; i < n; ++i) {
        last = t.failure(key, now);
    }
    return last;
}

// Fails `key` at `now` until a block starts (at most 1000 times); returns its length.
int fail_until_blocked(FailureThrottle& t, const std::string& key,
                       FailureThrottle::Clock::time_point now) {
    for (int i = 0; i < 1000; ++i) {
        if (auto o = t.failure(key, now); o.blocked) {
            return o.penalty_seconds;
        }
    }
    FAIL("never blocked");
    return 0;
}

}  // namespace

TEST_CASE("failure throttle: threshold 0 is off", "[common][throttle]") {
    FailureThrottle t({.threshold = 0});
    CHECK_FALSE(t.enabled());
    fail(t, "addr:192.0.2.7", 1000, kStart);
    CHECK(t.check("addr:192.0.2.7", kStart).allowed);
    CHECK(t.tracked_keys() == 0);
}

TEST_CASE("failure throttle: blocks when the score exceeds the threshold", "[common][throttle]") {
    FailureThrottle t({});  // 30, half-life 60 s, 10 s doubling to 900 s
    const std::string key = "addr:192.0.2.7";
    CHECK_FALSE(fail(t, key, 30, kStart).blocked);
    CHECK(t.check(key, kStart).allowed);
    auto o = t.failure(key, kStart);  // the 31st
    CHECK(o.blocked);
    CHECK(o.penalty_seconds == 10);
    auto d = t.check(key, kStart);
    CHECK_FALSE(d.allowed);
    CHECK(d.retry_after_seconds == 10);
    // Retry-After rounds up and never says 0.
    CHECK(t.check(key, kStart + 500ms).retry_after_seconds == 10);
    CHECK(t.check(key, kStart + 9999ms).retry_after_seconds == 1);
    CHECK(t.check(key, kStart + 10s).allowed);
    // Other keys are not affected.
    CHECK(t.check("addr:192.0.2.8", kStart).allowed);
    CHECK(t.blocks_total() == 1);
    CHECK(t.blocked_keys(kStart) == 1);
    CHECK(t.blocked_keys(kStart + 10s) == 0);
}

TEST_CASE("failure throttle: failures while blocked do not extend the block",
          "[common][throttle]") {
    FailureThrottle t({});
    const std::string key = "k";
    fail_until_blocked(t, key, kStart);
    // In-flight requests that passed check() before the block fail later.
    CHECK_FALSE(fail(t, key, 100, kStart + 5s).blocked);
    CHECK(t.check(key, kStart + 5s).retry_after_seconds == 5);
    CHECK(t.check(key, kStart + 10s).allowed);
}

TEST_CASE("failure throttle: the score decays with the half-life", "[common][throttle]") {
    FailureThrottle t({.half_life = 60s});
    const std::string key = "k";
    fail(t, key, 20, kStart);
    CHECK(t.score(key, kStart) == Approx(20));
    CHECK(t.score(key, kStart + 60s) == Approx(10));
    CHECK(t.score(key, kStart + 120s) == Approx(5));
    CHECK(t.score("untracked", kStart) == 0);
    // A clock reading slightly older than the last update counts as no time passed.
    t.failure(key, kStart - 1s);
    CHECK(t.score(key, kStart) == Approx(21));
}

TEST_CASE("failure throttle: an occasional mistake never blocks, a steady stream does",
          "[common][throttle]") {
    FailureThrottle t({});
    // 20 failures a minute, one hour long: the score settles near 29 and never passes 30.
    auto now = kStart;
    for (int i = 0; i < 20 * 60; ++i, now += 3s) {
        REQUIRE_FALSE(t.failure("steady", now).blocked);
        REQUIRE(t.check("steady", now).allowed);
    }
    CHECK(t.score("steady", now) < 30);
    // 40 a minute gets blocked within a minute or two.
    bool blocked = false;
    for (int i = 0; i < 40 * 2 && !blocked; ++i, now += 1500ms) {
        blocked = t.failure("busy", now).blocked;
    }
    CHECK(blocked);
}

TEST_CASE("failure throttle: penalties double per block while the score stays high, capped",
          "[common][throttle]") {
    FailureThrottle t({.penalty = 10s, .max_penalty = 60s});
    const std::string key = "k";
    auto now = kStart;
    std::vector<int> penalties;
    for (int i = 0; i < 6; ++i) {
        const int p = fail_until_blocked(t, key, now);
        penalties.push_back(p);
        CHECK_FALSE(t.check(key, now + std::chrono::seconds(p) - 1s).allowed);
        now += std::chrono::seconds(p);  // the client waits out each block, then fails again
        REQUIRE(t.check(key, now).allowed);
    }
    CHECK(penalties == std::vector<int>{10, 20, 40, 60, 60, 60});
    CHECK(t.blocks_total() == 6);
}

TEST_CASE("failure throttle: the doubling goes on until a half-life passes without failures",
          "[common][throttle]") {
    FailureThrottle t({});
    const std::string key = "k";
    CHECK(fail_until_blocked(t, key, kStart) == 10);
    CHECK(fail_until_blocked(t, key, kStart + 10s) == 20);
    CHECK(fail_until_blocked(t, key, kStart + 30s) == 40);
    CHECK(fail_until_blocked(t, key, kStart + 70s) == 80);  // blocked until +150 s
    // The score decayed during the block, but the episode goes on: back 59 s after it.
    CHECK(t.score(key, kStart + 209s) < 10);
    CHECK(fail_until_blocked(t, key, kStart + 209s) == 160);  // blocked until +369 s
    // A whole half-life without failures after the block: a new episode.
    CHECK(fail_until_blocked(t, key, kStart + 429s) == 10);
}

TEST_CASE("failure throttle: a client failing whenever let through reaches the cap",
          "[common][throttle]") {
    FailureThrottle t({});  // 10 s doubling to 900 s
    auto now = kStart;
    int failures = 0;
    int last_penalty = 0;
    const auto end = kStart + 2h;
    while (now < end) {
        if (auto d = t.check("k", now); !d.allowed) {
            now += std::chrono::seconds(d.retry_after_seconds);
            continue;
        }
        if (auto o = t.failure("k", now); o.blocked) {
            last_penalty = o.penalty_seconds;
        }
        ++failures;
        now += 100ms;
    }
    CHECK(last_penalty == 900);
    // Some 31 failures per 15 minutes once at the cap, far below 20 a minute.
    CHECK(failures < 500);
}

TEST_CASE("failure throttle: a success resets the penalty growth, not the score",
          "[common][throttle]") {
    FailureThrottle t({});
    const std::string key = "k";
    CHECK(fail_until_blocked(t, key, kStart) == 10);
    CHECK(fail_until_blocked(t, key, kStart + 10s) == 20);
    // A request that was in flight succeeds during the block: the block stands.
    const double before = t.score(key, kStart + 15s);
    t.success(key, kStart + 15s);
    CHECK_FALSE(t.check(key, kStart + 15s).allowed);
    CHECK(t.score(key, kStart + 15s) == Approx(before));
    // The next block is short again, but it comes after a few failures, not 31.
    const auto after = kStart + 30s;
    int failures = 0;
    FailureThrottle::Outcome o;
    while (!o.blocked) {
        o = t.failure(key, after);
        ++failures;
    }
    CHECK(o.penalty_seconds == 10);
    CHECK(failures < 10);
}

TEST_CASE("failure throttle: with success_ends_block a success ends the block, not the score",
          "[common][throttle]") {
    FailureThrottle t({.success_ends_block = true});
    const std::string key = "k";
    CHECK(fail_until_blocked(t, key, kStart) == 10);
    fail(t, key, 20, kStart);  // a flood goes on during the block: score about 51
    CHECK(fail_until_blocked(t, key, kStart + 10s) == 20);
    const double before = t.score(key, kStart + 15s);
    t.success(key, kStart + 15s);
    CHECK(t.check(key, kStart + 15s).allowed);
    CHECK(t.score(key, kStart + 15s) == Approx(before));
    // The score is still above the threshold: the next failure blocks again, for the first
    // penalty (the growth was reset).
    const auto o = t.failure(key, kStart + 16s);
    CHECK(o.blocked);
    CHECK(o.penalty_seconds == 10);
    CHECK_FALSE(t.check(key, kStart + 16s).allowed);
    // Never adds a key either.
    t.success("other", kStart);
    CHECK(t.tracked_keys() == 1);
}

TEST_CASE("failure throttle: one valid key does not buy unlimited failures", "[common][throttle]") {
    // A client interleaving a success with every failure, as fast as it is let through.
    FailureThrottle t({});
    const std::string key = "k";
    auto now = kStart;
    int failures = 0;
    const auto end = kStart + 10min;
    while (now < end) {
        if (auto d = t.check(key, now); !d.allowed) {
            now += std::chrono::seconds(d.retry_after_seconds);
            continue;
        }
        t.failure(key, now);
        t.success(key, now);
        ++failures;
        now += 10ms;
    }
    // About the 20 a minute the threshold tolerates anyway, plus the first burst.
    CHECK(failures < 31 + 25 * 10);
}

TEST_CASE("failure throttle: a success never adds a key", "[common][throttle]") {
    FailureThrottle t({});
    for (int i = 0; i < 1000; ++i) {
        t.success("addr:10.0.0." + std::to_string(i), kStart);
    }
    CHECK(t.tracked_keys() == 0);
}

TEST_CASE("failure throttle: memory is bounded under an address-cycling flood",
          "[common][throttle]") {
    CHECK(FailureThrottle({}).options().max_keys == 100000);  // the default bound
    // A smaller bound keeps the test fast; the amortised cost per key does not depend on it.
    const std::size_t bound = 10000;
    FailureThrottle t({.max_keys = bound});
    // A key blocked before the flood, and one close to the threshold without a block.
    const std::string blocked = "addr:192.0.2.1";
    const std::string near = "addr:192.0.2.2";
    fail_until_blocked(t, blocked, kStart);
    fail(t, near, 25, kStart);

    // One million distinct addresses, one failure each, within two seconds. (Keys short
    // enough for the small-string buffer keep the sanitizer build fast.)
    for (int i = 0; i < 1000000; ++i) {
        const auto now = kStart + std::chrono::microseconds(2 * i);
        t.failure("f:" + std::to_string(i), now);
        if (i % 1000 == 0) {
            REQUIRE(t.tracked_keys() <= bound);
        }
    }
    const auto after = kStart + 2s;
    CHECK(t.tracked_keys() <= bound);
    CHECK(t.evictions_total() >= 1000000 - bound);
    CHECK_FALSE(t.check(blocked, after).allowed);
    CHECK(t.score(blocked, after) > 30);
    CHECK(t.score(near, after) > 24);
    // Fresh keys of the flood were the ones evicted; the newest is still there.
    CHECK(t.score("f:999999", after) > 0.9);
}

TEST_CASE("failure throttle: keys that decayed to nothing are dropped first",
          "[common][throttle]") {
    FailureThrottle t({.max_keys = 100});
    for (int i = 0; i < 50; ++i) {
        t.failure("old-" + std::to_string(i), kStart);
    }
    const auto later = kStart + 1h;  // 60 half-lives: the old keys carry nothing
    for (int i = 0; i < 50; ++i) {
        t.failure("new-" + std::to_string(i), later);
    }
    CHECK(t.tracked_keys() == 100);
    t.failure("one-more", later);
    CHECK(t.tracked_keys() == 51);
    CHECK(t.evictions_total() == 50);
    CHECK(t.score("new-0", later) == Approx(1));
}

TEST_CASE("failure throttle: blocked keys are evicted last", "[common][throttle]") {
    FailureThrottle t({.threshold = 2, .max_keys = 8});
    // Fill the table with 8 blocked keys, then push fresh keys through it.
    for (int i = 0; i < 8; ++i) {
        fail_until_blocked(t, "blocked-" + std::to_string(i), kStart);
    }
    t.failure("fresh-0", kStart);  // table full of blocked keys: one of them has to go
    CHECK(t.tracked_keys() <= 8);
    for (int i = 1; i < 100; ++i) {
        t.failure("fresh-" + std::to_string(i), kStart);
    }
    CHECK(t.tracked_keys() <= 8);
    // The 7 blocked keys that survived the first eviction survived all the fresh keys.
    int still_blocked = 0;
    for (int i = 0; i < 8; ++i) {
        still_blocked += t.check("blocked-" + std::to_string(i), kStart).allowed ? 0 : 1;
    }
    CHECK(still_blocked == 7);
}

TEST_CASE("failure throttle: concurrent callers", "[common][throttle]") {
    FailureThrottle t({.max_keys = 64});
    std::vector<std::thread> threads;
    for (int n = 0; n < 4; ++n) {
        threads.emplace_back([&t, n] {
            for (int i = 0; i < 20000; ++i) {
                const auto now = kStart + std::chrono::milliseconds(i);
                // Built by append: GCC 12 at -O3 warns (falsely) about "k" + to_string here.
                std::string key = "k";
                key += std::to_string((i * 7 + n) % 200);
                t.failure(key, now);
                t.check(key, now);
                if (i % 5 == 0) {
                    t.success(key, now);
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    CHECK(t.tracked_keys() <= 64);
}
