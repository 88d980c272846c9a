// Full synchronisation of the token replica from Redis, run by the event consumer's thread
// on start and after any gap in the event stream (connection lost, Redis restarted).
//
// Order matters: the stream's last id is noted FIRST, then the live tokens are scanned, then
// the consumer applies every event after that id. The scan sees a state at least as new as
// that id, so an event already reflected by the scan is applied again harmlessly (every
// event sets state rather than changing it relatively: insert replaces the token's entry,
// revoke drops it, org.updated sets the flag). The replica is trusted only once those
// events are read too.
//
// Bounded chunks: a store may hold millions of live tokens, so no command reads a whole
// set. The orgs come from `SSCAN tka:orgs`, each org's tokens from `ZSCAN tka:{org}:tokens`
// with a COUNT hint (members scored by expires_at; only those after `now` are kept); the
// records of one ZSCAN page are read with one `HMGET pw status user_id expires_at` per
// token, pipelined in the same round trip as the next ZSCAN. Every command therefore costs
// Redis work proportional to the COUNT hint (well under a millisecond at the default),
// never to the size of an org, and each stays far under the command timeout.
//
// Why ZSCAN and not ranks or scores: SCAN guarantees that every member present for the
// whole iteration is returned (some may be returned twice, which is harmless: an insert
// replaces the token's entry). Rank windows (ZRANGE i j) shift while expired members are
// pruned, which can skip members; score cursors stall on the many tokens that share one
// expires_at second. A member added or removed during the scan may or may not be seen;
// its event comes after the noted id, so the catch-up applies it either way.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "plugin/token_replica.hpp"

namespace tka::plugin {

// COUNT hint of each SSCAN / ZSCAN, i.e. about how many tokens one round trip reads.
inline constexpr std::size_t kSyncScanCount = 250;

struct ReplicaSyncResult {
    std::string stream_id;   // apply events with an id greater than this one
    std::size_t orgs = 0;    // organizations read so far
    std::size_t tokens = 0;  // live tokens inserted so far
    std::size_t round_trips = 0;
};

struct ReplicaSyncOptions {
    std::size_t scan_count = kSyncScanCount;
    // Called after every chunk (one ZSCAN page and its records) with the totals so far;
    // returning false abandons the sync (sync_replica then returns nullopt).
    std::function<bool(const ReplicaSyncResult&)> progress;
};

// Clears `replica` and fills it from Redis; nullopt when `progress` asked to stop. Throws
// RedisError when Redis fails midway (the replica then holds a partial table and must stay
// untrusted; the caller retries after its backoff). Does not change the trust flag.
std::optional<ReplicaSyncResult> sync_replica(RedisConnection& redis, TokenReplica& replica,
                                              UnixSeconds now,
                                              const ReplicaSyncOptions& options = {});

}  // namespace tka::plugin
