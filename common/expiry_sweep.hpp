// The background half of expiry in the compact layout (docs/redis-layout.md#expiry): token
// records past expires_at + 1 h are invisible to every reader at once, and deleted by a
// sweep. Every create sweeps one bucket of its own org; ExpirySweep walks all orgs so that
// idle ones are cleaned too. One pass looks at a bounded number of buckets (the org's own
// cursor lives in Redis, this one only remembers where in the list of orgs it stopped), so
// each pass costs Redis a bounded amount of work however large the store.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "common/redis.hpp"
#include "common/time_format.hpp"

namespace tka {

// Buckets one org gets per script call, and per pass in total.
inline constexpr int kSweepBucketsPerCall = 64;
inline constexpr int kSweepBucketsPerPass = 512;

class ExpirySweep {
  public:
    struct PassResult {
        std::int64_t buckets = 0;  // user buckets looked at
        std::int64_t deleted = 0;  // records deleted
    };

    // Sweeps up to `max_buckets` buckets, continuing with the org after the last one swept.
    // Throws RedisError on a broken connection (the caller retries later).
    PassResult pass(RedisConnection& redis, UnixSeconds now,
                    int max_buckets = kSweepBucketsPerPass);

  private:
    std::string org_cursor_ = "0";     // SSCAN cursor over tka:orgs
    std::deque<std::string> pending_;  // orgs of the last SSCAN page not swept yet
};

}  // namespace tka
