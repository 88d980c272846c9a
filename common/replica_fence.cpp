// Polling loop of the replica fence (see replica_fence.hpp).
#include "common/replica_fence.hpp"

#include <algorithm>
#include <array>
#include <thread>

#include "common/errors.hpp"
#include "common/lua_scripts.hpp"
#include "common/redis_keys.hpp"

namespace tka {

namespace {

using std::chrono::microseconds;

// Short first: a healthy broker applies an event within about a millisecond.
constexpr std::array<microseconds, 6> kBackoff = {microseconds{500},  microseconds{1000},
                                                  microseconds{1000}, microseconds{2000},
                                                  microseconds{2000}, microseconds{5000}};
constexpr microseconds kMaxSleep{10000};

long long integer_of(const RedisValue& v) {
    return v.type == RedisValue::Type::integer ? v.integer : std::stoll(v.str);
}

}  // namespace

FenceResult wait_for_replicas(RedisConnection& redis, const FenceOptions& options) {
    using Clock = std::chrono::steady_clock;
    const auto begin = Clock::now();
    const auto deadline = begin + options.bound;
    const std::vector<std::string> keys = {keys::events(), keys::replicas(),
                                           keys::replicas_applied()};
    const std::string stale = std::to_string(options.stale_after.count());
    FenceResult result;
    std::string start;
    for (std::size_t attempt = 0;; ++attempt) {
        const RedisValue reply =
            scripts::replica_fence().run(redis, keys, {result.target, start, stale});
        ++result.round_trips;
        if (!reply.is_array() || reply.elements.size() < 4) {
            throw RedisError("replica fence: unexpected reply");
        }
        result.target = reply.elements[0].str;
        start = reply.elements[1].str;
        result.lagging = integer_of(reply.elements[2]);
        result.dropped = integer_of(reply.elements[3]);
        const auto now = Clock::now();
        if (result.lagging == 0 || now >= deadline) {
            result.timed_out = result.lagging > 0 || result.dropped > 0;
            result.waited = now - begin;
            return result;
        }
        const microseconds step = attempt < kBackoff.size() ? kBackoff[attempt] : kMaxSleep;
        std::this_thread::sleep_for(
            std::min<Clock::duration>(step, std::max<Clock::duration>(deadline - now, {})));
    }
}

FenceResult fence_replicas(RedisConnection& redis, const FenceObserver& observer) {
    const auto begin = std::chrono::steady_clock::now();
    FenceResult result;
    try {
        result = wait_for_replicas(redis);
    } catch (const RedisError& e) {
        // The write has committed; the fence only could not see the replicas. Wait out the
        // bound so that no broker can still answer from a replica without the write.
        std::this_thread::sleep_until(begin + kReplicaFenceBound);
        result = FenceResult{};
        result.timed_out = true;
        result.error = e.what();
        result.waited = std::chrono::steady_clock::now() - begin;
    }
    if (observer) {
        observer(result);
    }
    return result;
}

}  // namespace tka
