// Full synchronisation of the token replica from Redis, run by the event consumer's thread
// on start and after any gap in the event stream (connection lost, Redis restarted).
//
// Order matters: the stream's last id is noted FIRST, then the live tokens are scanned
// (tka:orgs -> each org's token_auth, ZRANGEBYSCORE tka:{org}:tokens (now +inf -> HMGET of
// each token record's pw, status, user_id, expires_at, pipelined). The scan sees a state
// at least as new as that id, so the consumer then applies every event after the id: an
// event already reflected by the scan is applied again harmlessly (every event sets state
// rather than changing it relatively: insert replaces the token's entry, revoke drops it,
// org.updated sets the flag). The replica is trusted only once those events are read too.
#pragma once

#include <cstddef>
#include <string>

#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "plugin/token_replica.hpp"

namespace tka::plugin {

struct ReplicaSyncResult {
    std::string stream_id;  // apply events with an id greater than this one
    std::size_t orgs = 0;
    std::size_t tokens = 0;  // live tokens inserted
};

// Clears `replica` and fills it from Redis. Throws RedisError when Redis fails midway (the
// replica then stays untrusted; the caller retries after its backoff).
ReplicaSyncResult sync_replica(RedisConnection& redis, TokenReplica& replica, UnixSeconds now);

}  // namespace tka::plugin
