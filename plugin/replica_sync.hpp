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
// org. The orgs come from `SSCAN tka:orgs`; each org's records are the fields of its user
// buckets (docs/redis-layout.md: `tka:{org}:u:<generation>:<index>`, every index of every
// generation up to the org's `bits`), read with pipelined `HGETALL`s, a few dozen buckets
// per round trip. A bucket holds about 32 records or fewer (it stays a listpack of at most
// 128 fields), so every command costs Redis work proportional to one bucket, never to the
// size of an org, and each stays far under the command timeout. Each record carries
// everything the replica needs (password digest, status, user, expires_at): no second read.
//
// Buckets are addressed by name, not scanned: a record present for the whole sync is in
// its bucket when that bucket is read (records never move between buckets). A record
// added or removed during the sync may or may not be seen; its event comes after the noted
// id, so the catch-up applies it either way.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "plugin/token_replica.hpp"

namespace tka::plugin {

// About how many tokens one round trip reads: buckets per round trip = this divided by the
// records per bucket (common/token_record.hpp), at least one; also the COUNT of SSCAN.
inline constexpr std::size_t kSyncScanCount = 2048;

struct ReplicaSyncResult {
    std::string stream_id;   // apply events with an id greater than this one
    std::size_t orgs = 0;    // organizations read so far
    std::size_t tokens = 0;  // live tokens inserted so far
    std::size_t round_trips = 0;
};

struct ReplicaSyncOptions {
    std::size_t scan_count = kSyncScanCount;
    // Called after every chunk (one round trip of bucket reads) with the totals so far;
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
