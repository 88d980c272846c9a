// Durability of acknowledged writes across a failover. Redis replicates asynchronously: a
// token that tokend has just answered 200 for can still be missing on the replica that
// Sentinel promotes when the primary dies a moment later, and then it never worked. With
// RedisOptions::wait_replicas = N > 0 every state change of the stores (token create,
// refresh, revoke; organization create and update; secret key changes) is followed, on the
// same connection, by `WAIT N wait_timeout`: the call returns only once N replicas hold the
// write, or fails with ReplicaWaitError when fewer acknowledged it in time. The write has
// then still been made on the primary; the caller reports a failure (tokend: 503, tokenctl:
// non-zero exit), so nobody relies on a change that a failover may undo.
// WAIT never blocks longer than wait_timeout (0, "forever" to Redis, is not accepted).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/errors.hpp"
#include "common/redis.hpp"

namespace tka {

inline constexpr std::int64_t kMaxWaitReplicas = 64;
inline constexpr std::int64_t kMinWaitMs = 1;
inline constexpr std::int64_t kMaxWaitMs = 60000;
inline constexpr std::int64_t kDefaultWaitMs = 1000;

// A write that fewer than wait_replicas replicas confirmed within wait_timeout. A kind of
// RedisError (unavailable, retry later); its message is meant for the client.
class ReplicaWaitError : public RedisError {
  public:
    using RedisError::RedisError;
};

// The values of --redis-wait-replicas (0..kMaxWaitReplicas) and --redis-wait-ms
// (kMinWaitMs..kMaxWaitMs). Throw std::invalid_argument with a one-line message that names
// `option` (e.g. "--redis-wait-ms") and the accepted range.
int parse_wait_replicas(std::string_view option, std::string_view text);
std::chrono::milliseconds parse_wait_ms(std::string_view option, std::string_view text);

// Runs WAIT on `redis` when its options ask for replicas; call it right after a write.
// Throws ReplicaWaitError when too few replicas acknowledged, RedisError when Redis failed
// or refused WAIT.
void confirm_replicated(RedisConnection& redis);

// "the write was not confirmed by N replica(s) within M ms (K acknowledged)".
std::string not_replicated_message(int wanted, std::chrono::milliseconds timeout,
                                   long long acknowledged);

}  // namespace tka
