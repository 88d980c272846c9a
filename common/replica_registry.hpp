// The brokers' registry as an operator sees it (the dashboard's Brokers page): every
// replica registered in keys::replicas() with its last heartbeat, the last stream id it
// applied (keys::replicas_applied()) and how far that is behind the stream's last id.
// Read-only; the registry's rules are common/replica_lease.hpp's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/redis.hpp"

namespace tka {

struct ReplicaStatus {
    std::string replica_id;
    std::int64_t heartbeat_ms = 0;      // Redis server time (unix ms) of its last heartbeat
    std::int64_t heartbeat_age_ms = 0;  // Redis server now - heartbeat_ms (>= 0)
    std::string applied_id;             // last stream id applied ("" if never reported)
    // Events in the stream after applied_id, counted up to kLagCountLimit (nullopt when
    // applied_id is empty or no longer in the stream).
    std::optional<std::int64_t> lag_events;
    std::int64_t lag_ms = 0;  // stream's last id time - applied_id time (ms part of the ids)
    // Whether the heartbeat is recent enough for writers to wait for it
    // (age < kReplicaStaleAfter): the broker may answer from its replica (it holds a lease
    // or can renew one); false means writers ignore it and it must not answer from memory.
    bool fresh = false;
};

inline constexpr std::int64_t kLagCountLimit = 10000;

struct ReplicaRegistry {
    std::string stream_last_id;  // "" for an empty stream
    std::int64_t server_now_ms = 0;
    std::vector<ReplicaStatus> replicas;  // most recent heartbeat first
};

ReplicaRegistry read_replica_registry(RedisConnection& redis);

}  // namespace tka
