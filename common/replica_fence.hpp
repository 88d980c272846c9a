// The writer side of read-your-writes across brokers: after a commit that can make a
// credential stop working (refresh, revoke, replace, token auth off), wait until every
// broker answering CONNECTs from a local token replica has applied it, or has stopped
// answering from its replica (its lease lapsed). The contract and its proof are in
// common/replica_lease.hpp; the registry keys in docs/redis-layout.md.
//
// One Lua script (scripts::replica_fence) per poll: the first call fixes the target (the
// stream's last id) and the start (Redis server time), every call counts the replicas
// that are fresh but still behind. Without any fresh replica the wait is that one round
// trip. A timeout is a result, never an exception. wait_for_replicas lets Redis errors
// throw RedisError; fence_replicas, which the stores call after a write has committed,
// turns them into an unconfirmed result instead (a committed refresh must never answer 503:
// the device would lose the new password while the old one is already dead).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/redis.hpp"
#include "common/replica_lease.hpp"

namespace tka {

struct FenceResult {
    std::chrono::nanoseconds waited{0};  // steady time spent, round trips included
    std::string target;                  // the stream id waited for
    int round_trips = 0;
    // A broker did not confirm: it went stale while behind (its lease had lapsed by then)
    // or the bound passed with a fresh one still behind. The write has committed anyway.
    bool timed_out = false;
    long long lagging = 0;  // fresh replicas still behind at the end
    long long dropped = 0;  // replicas that went stale while behind
    std::string error;      // fence_replicas only: the Redis error that cut the fence short
};

// Told about every fence a store ran (tokend: metrics and a warning on timeout).
using FenceObserver = std::function<void(const FenceResult&)>;

struct FenceOptions {
    std::chrono::milliseconds bound = kReplicaFenceBound;
    std::chrono::milliseconds stale_after = kReplicaStaleAfter;
};

// Blocks the calling thread for at most about options.bound (plus one round trip).
FenceResult wait_for_replicas(RedisConnection& redis, const FenceOptions& options = {});

// Runs the fence and tells `observer` (if set) about it. Never throws RedisError: when Redis
// fails during the fence it waits until kReplicaFenceBound has passed since the call (by
// then every lease granted on a state without the write has lapsed, replica_lease.hpp) and
// returns timed_out with `error` set.
FenceResult fence_replicas(RedisConnection& redis, const FenceObserver& observer);

}  // namespace tka
