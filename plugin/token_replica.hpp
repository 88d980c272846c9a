// The local token replica: every live token of every organization in memory, keyed by the
// SHA-256 digest of the password, so that MOSQ_EVT_BASIC_AUTH can answer without a Redis
// round trip -- including "no such token": while the replica is trusted and complete, a
// password it does not hold is refused from memory (Kind::unknown), so a flood of wrong
// passwords costs Redis nothing.
//
// Writers: the event consumer's thread (full sync from Redis, then every stream event as
// soon as it is read, and purge_expired() between reads). Readers: the broker thread
// (lookup, and fill() after a Redis lookup) and, with delayed basic auth (Mosquitto 2.1),
// the lookup worker's thread (fill()). One std::mutex guards everything; lookups hold it
// for one hash probe, the consumer's operations for one insert/erase or a bounded purge
// step (no I/O; allocation only when the arena or an index grows).
//
// Trust: lookup() answers only while the replica is trusted, i.e. caught up with the stream
// after a full sync, the consumer's connection is healthy, AND its lease has not lapsed.
// The consumer calls set_trusted(false) on any error, gap or reconnect and set_trusted(true)
// after it has synced and read the stream to its end (caught_up()); while untrusted every
// lookup answers `untrusted` and the plugin asks Redis (fail closed stays the rule).
// The lease (common/replica_lease.hpp) is renewed by the consumer after each successful
// heartbeat in the Redis replica registry; once steady_clock reaches it, lookup() answers
// `untrusted` even though the flag is still set, because writers stop waiting for a
// broker whose heartbeat has gone stale. Writers fence every change that makes a credential
// work or stop working (common/replica_fence.hpp), so "unknown" from a leased replica is
// as current as Redis's own answer.
//
// Complete: nothing is ever evicted. `max_entries` (plugin_opt_cache_max_entries) is a
// safety limit far above any realistic fleet; an insert beyond it is dropped and the
// replica becomes *incomplete*: it still answers what it holds, but a password it does not
// hold is a `miss` (the plugin asks Redis, as before). take_notice() reports the change
// once for the log; stats().complete says it. The next full sync that fits (clear() and its
// inserts) makes it complete again.
//
// Expired tokens are kept, answered `expired`, for kExpiredRetention after their expiry
// (as long as Redis keeps their records, docs/redis-layout.md); purge_expired() then drops
// them a bounded number of slots at a time.
//
// Memory (about 90 bytes per token at a million, bench/replica_memory): 72-byte entries in
// fixed blocks of kBlockEntries (no doubling of one big array), a free list threaded
// through dead entries, and two ReplicaIndex tables of 4-byte cells (replica_index.hpp).
// The user is kept as a 128-bit keyed tag (SHA-256 of a per-replica random key and the
// user id): a wrong user is told apart unless SHA-256 collides, and nobody without the key
// can search for a collision.
//
// Organizations are interned (a 32-bit number per entry); their token_auth state is kept
// per org. token_auth off masks the org's entries rather than dropping them, so that turning
// it back on restores them (their tokens are valid again in Redis at that instant too).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/events.hpp"
#include "common/time_format.hpp"
#include "plugin/options.hpp"
#include "plugin/replica_index.hpp"
#include "plugin/uuid_bytes.hpp"

namespace tka::plugin {

using PasswordDigest = std::array<std::uint8_t, 32>;  // raw SHA-256 of the password

// How long after its expiry a token record stays in Redis (answered "expired" there).
inline constexpr UnixSeconds kExpiredRetention = 3600;
// Slots purge_expired() looks at per call from the consumer's loop.
inline constexpr std::size_t kPurgeStepsPerCall = 16384;

// What the replica knows about one credential.
struct ReplicaAnswer {
    enum class Kind {
        untrusted,       // not caught up with the stream, or no lease: ask Redis
        miss,            // not held, and the replica is incomplete: ask Redis
        unknown,         // not held, and the replica is complete: no such token (refuse)
        allow,           // live token of this user, org token auth on
        expired,         // the token's expires_at has passed
        user_mismatch,   // the token belongs to another user of the org
        token_auth_off,  // the org has token auth off
    };
    Kind kind = Kind::miss;
    UuidBytes token_id{};        // allow (format_lowercase_uuid gives the text)
    UnixSeconds expires_at = 0;  // allow
};

struct ReplicaStats {
    std::size_t entries = 0;      // tokens held (live, or expired less than the retention)
    std::size_t orgs = 0;         // organizations known
    std::size_t max_entries = 0;  // the bound
    std::size_t bytes = 0;        // entry blocks and indexes, allocated
    std::uint64_t dropped = 0;    // inserts refused by the bound since the last clear()
    bool complete = true;         // holds every token it was given since the last clear()
    bool trusted = false;         // caught up and inside the lease
};

// A line for the plugin's log about the replica's state (take_notice()).
struct ReplicaNotice {
    LogLevel level = LogLevel::notice;
    std::string message;
};

class TokenReplica {
  public:
    explicit TokenReplica(std::size_t max_entries = kDefaultCacheEntries);
    TokenReplica(const TokenReplica&) = delete;
    TokenReplica& operator=(const TokenReplica&) = delete;

    // Broker thread. `now` in unix seconds. Always `untrusted` while untrusted or once the
    // lease has lapsed. Allocates nothing.
    ReplicaAnswer lookup(std::string_view org_id, std::string_view user_id,
                         const PasswordDigest& digest, UnixSeconds now);

    // The replica's version: changes with every applied event, sync and trust change.
    std::uint64_t version() const;
    // Broker thread, after Redis said "ok" for a miss: inserts the credential only if
    // nothing was applied since `version_before` (taken before asking Redis), so an event
    // committed after Redis answered can never be overwritten by the older answer.
    bool fill(std::uint64_t version_before, std::string_view org_id, std::string_view user_id,
              std::string_view token_id, const PasswordDigest& digest, UnixSeconds expires_at,
              UnixSeconds now);

    // Consumer thread: one stream event (token.created/refreshed/revoked, org.updated).
    void apply(const Event& event, UnixSeconds now);

    // Consumer thread, during a full sync.
    void clear();  // forget every entry and org state, complete again (keeps trust)
    void set_org(std::string_view org_id, bool token_auth);
    // `digest_hex`: the record's `pw` field (64 hex chars); false when not stored (bad
    // fields, long expired, or the bound reached).
    bool insert(std::string_view org_id, std::string_view user_id, std::string_view token_id,
                std::string_view digest_hex, UnixSeconds expires_at, UnixSeconds now);

    // Consumer thread: drops tokens expired more than kExpiredRetention before `now`,
    // looking at no more than `max_steps` slots (it resumes where it stopped). Returns the
    // number dropped.
    std::size_t purge_expired(UnixSeconds now, std::size_t max_steps = kPurgeStepsPerCall);
    // Consumer thread: a line to log when completeness changed since the last call
    // (incomplete: warning; complete again: notice), else nullopt.
    std::optional<ReplicaNotice> take_notice();

    // Consumer thread: caught up (true) or not (false). Returns true when the state
    // changed. false also ends the lease.
    bool set_trusted(bool trusted);
    // Consumer thread: lookups may answer until `until` (steady_clock), if caught up.
    void renew_lease(std::chrono::steady_clock::time_point until);
    // Caught up and inside the lease: what lookup() needs to answer.
    bool trusted() const;
    // Caught up, whatever the lease says (the consumer's own state).
    bool caught_up() const;
    // Holds every token it was given since the last clear().
    bool complete() const;

    ReplicaStats stats() const;
    std::size_t max_entries() const { return max_entries_; }

    // Bytes of one entry (the per-token memory adds about 17 bytes of index at a million).
    static constexpr std::size_t entry_size();
    // Entries per arena block.
    static constexpr std::size_t kBlockEntries = 4096;

  private:
    using UserTag = std::array<std::uint8_t, 16>;
    // Trivial on purpose: a new block is not written until its slots are used.
    struct Entry {
        PasswordDigest digest;     // 32 bytes: raw SHA-256 of the password
        UuidBytes token_id;        // 16 bytes: UUID in binary
        UserTag user;              // 16 bytes: keyed tag of the user id (user_tag())
        std::uint32_t expires_at;  // unix seconds (until 2106); 0: a free slot
        std::uint32_t org;         // org number; in a free slot: the next free slot
    };
    static_assert(sizeof(Entry) == 72);

    UserTag user_tag(std::string_view user_id) const;
    Entry& entry(std::uint32_t slot) { return blocks_[slot / kBlockEntries][slot % kBlockEntries]; }
    const Entry& entry(std::uint32_t slot) const {
        return blocks_[slot / kBlockEntries][slot % kBlockEntries];
    }
    std::uint32_t find_org(std::string_view org_id) const;               // lock held
    std::uint32_t intern_org(std::string_view org_id, bool token_auth);  // lock held
    std::uint32_t find_digest(const PasswordDigest& digest) const;
    std::uint32_t find_token(const UuidBytes& token) const;
    bool insert_locked(std::uint32_t org, const UserTag& user, const UuidBytes& token,
                       const PasswordDigest& digest, UnixSeconds expires_at, UnixSeconds now);
    std::uint32_t allocate_slot();  // below the bound (the caller checks)
    template <class F>
    void for_each_live(F&& f) const;  // f(slot, entry) in memory order
    void drop_slot(std::uint32_t slot);
    void drop_token(const UuidBytes& token);

    const std::size_t max_entries_;
    std::array<std::uint8_t, 32> tag_key_{};  // random per replica, never leaves memory
    mutable std::mutex mutex_;                // guards everything below
    std::vector<std::unique_ptr<Entry[]>> blocks_;
    std::uint32_t slots_used_ = 0;  // slots ever handed out since clear() (high-water mark)
    std::uint32_t free_head_ = ReplicaIndex::kNone;
    ReplicaIndex by_digest_;
    ReplicaIndex by_token_;
    ReplicaIndex org_index_;
    std::vector<std::string> org_names_;
    std::vector<std::uint8_t> org_on_;  // per org: token auth on (1) or off (0)
    std::size_t live_ = 0;
    std::uint32_t purge_cursor_ = 0;
    std::uint64_t version_ = 1;
    std::uint64_t dropped_ = 0;
    bool complete_ = true;
    bool reported_complete_ = true;  // what take_notice() last said
    bool trusted_ = false;           // caught up
    // trusted_ for lookup()'s early "untrusted" outside the lock: false is always a safe
    // answer (the CONNECT asks Redis), true is checked again under the lock.
    std::atomic<bool> caught_up_hint_{false};
    std::chrono::steady_clock::time_point lease_until_{};
};

constexpr std::size_t TokenReplica::entry_size() {
    return sizeof(Entry);
}

// Parses a 64-char hex SHA-256 digest; nullopt when malformed.
std::optional<PasswordDigest> parse_digest_hex(std::string_view hex);

}  // namespace tka::plugin
