// The local token replica: an in-memory table of live tokens, keyed by the SHA-256 digest
// of the password, so that MOSQ_EVT_BASIC_AUTH can answer without a Redis round trip.
//
// Writers: the event consumer's thread (full sync from Redis, then every stream event as
// soon as it is read). Readers: the broker thread (lookup, and fill() after a Redis lookup)
// and, with delayed basic auth (Mosquitto 2.1), the lookup worker's thread (fill()).
// One std::mutex guards everything; every operation holds it for microseconds (no I/O, no
// allocation beyond the table's own).
//
// Trust: lookup() answers only while the replica is trusted, i.e. caught up with the stream
// after a full sync, the consumer's connection is healthy, AND its lease has not lapsed.
// The consumer calls set_trusted(false) on any error, gap or reconnect and set_trusted(true)
// after it has synced and read the stream to its end (caught_up()); while untrusted every
// lookup answers `untrusted` and the plugin asks Redis (fail closed stays the rule).
// The lease (common/replica_lease.hpp) is renewed by the consumer after each successful
// heartbeat in the Redis replica registry; once steady_clock reaches it, lookup() answers
// `untrusted` even though the flag is still set, because writers stop waiting for a
// broker whose heartbeat has gone stale.
//
// Entries are compact (64 bytes, see Entry) and bounded by `max_entries`; when full, the
// CLOCK algorithm (second chance) evicts an expired or not recently used entry. An evicted
// entry is only a miss: the plugin then asks Redis and may fill() it back.
//
// Organizations are interned (a 32-bit index per entry); their token_auth state is kept
// per org. token_auth off masks the org's entries rather than dropping them, so that turning
// it back on restores them (their tokens are valid again in Redis at that instant too).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/events.hpp"
#include "common/time_format.hpp"
#include "plugin/options.hpp"
#include "plugin/uuid_bytes.hpp"

namespace tka::plugin {

using PasswordDigest = std::array<std::uint8_t, 32>;  // raw SHA-256 of the password

// What the replica knows about one credential.
struct ReplicaAnswer {
    enum class Kind {
        untrusted,       // not caught up with the stream: ask Redis
        miss,            // unknown digest, or not for this org: ask Redis
        allow,           // live token of this user, org token auth on
        expired,         // the token's expires_at has passed
        user_mismatch,   // the token belongs to another user of the org
        token_auth_off,  // the org has token auth off
    };
    Kind kind = Kind::miss;
    std::string token_id;        // allow
    UnixSeconds expires_at = 0;  // allow
};

struct ReplicaStats {
    std::size_t entries = 0;
    std::size_t orgs = 0;
    std::uint64_t evictions = 0;
    bool trusted = false;
};

class TokenReplica {
  public:
    explicit TokenReplica(std::size_t max_entries = kDefaultCacheEntries);
    TokenReplica(const TokenReplica&) = delete;
    TokenReplica& operator=(const TokenReplica&) = delete;

    // Broker thread. `now` in unix seconds. Always `untrusted` while untrusted or once the
    // lease has lapsed.
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
    void clear();  // forget every entry and org state (keeps trust as it is)
    void set_org(std::string_view org_id, bool token_auth);
    // `digest_hex`: the record's `pw` field (64 hex chars); false when not cacheable.
    bool insert(std::string_view org_id, std::string_view user_id, std::string_view token_id,
                std::string_view digest_hex, UnixSeconds expires_at, UnixSeconds now);

    // Consumer thread: caught up (true) or not (false). Returns true when the state
    // changed. false also ends the lease.
    bool set_trusted(bool trusted);
    // Consumer thread: lookups may answer until `until` (steady_clock), if caught up.
    void renew_lease(std::chrono::steady_clock::time_point until);
    // Caught up and inside the lease: what lookup() needs to answer.
    bool trusted() const;
    // Caught up, whatever the lease says (the consumer's own state).
    bool caught_up() const;

    ReplicaStats stats() const;
    std::size_t max_entries() const { return max_entries_; }

    // Bytes of one entry in the slot array (the per-entry size documented in plugin.md
    // adds the two index nodes).
    static constexpr std::size_t entry_size();

  private:
    struct Entry {
        PasswordDigest digest{};                  // 32 bytes: raw SHA-256 of the password
        std::array<std::uint8_t, 16> token_id{};  // 16 bytes: UUID in binary
        std::uint64_t user_hash = 0;              //  8 bytes: hash of the user id
        std::uint32_t expires_at = 0;             //  4 bytes: unix seconds (until 2106)
        std::uint32_t org = 0;                    //  4 bytes: interned org index
    };
    static_assert(sizeof(Entry) == 64);

    enum class OrgState : std::uint8_t { unknown, on, off };

    std::uint32_t intern_org(std::string_view org_id);  // lock held
    std::optional<std::uint32_t> find_org(std::string_view org_id) const;
    bool insert_locked(std::uint32_t org, std::uint64_t user_hash,
                       const std::array<std::uint8_t, 16>& token, const PasswordDigest& digest,
                       UnixSeconds expires_at, UnixSeconds now);
    void drop_slot(std::uint32_t slot);
    void drop_token(const std::array<std::uint8_t, 16>& token);
    std::uint32_t allocate_slot(UnixSeconds now);

    const std::size_t max_entries_;
    mutable std::mutex mutex_;  // guards everything below
    std::vector<Entry> slots_;
    std::vector<std::uint8_t> flags_;  // per slot: bit 0 live, bit 1 referenced (CLOCK)
    std::vector<std::uint32_t> free_;  // dead slots to reuse
    // Index keys are 64 bits of the digest / of the mixed token UUID; the full value is
    // compared in the slot. A colliding insert evicts the older entry, so each key names
    // at most one live slot (a collision costs a miss, never a wrong answer).
    std::unordered_map<std::uint64_t, std::uint32_t> by_digest_;
    std::unordered_map<std::uint64_t, std::uint32_t> by_token_;
    std::vector<std::string> org_names_;
    std::vector<OrgState> org_states_;
    std::unordered_map<std::string, std::uint32_t> org_index_;
    std::size_t live_ = 0;
    std::size_t hand_ = 0;  // CLOCK hand
    std::uint64_t version_ = 1;
    std::uint64_t evictions_ = 0;
    bool trusted_ = false;  // caught up
    std::chrono::steady_clock::time_point lease_until_{};
};

constexpr std::size_t TokenReplica::entry_size() {
    return sizeof(Entry);
}

// Parses a 64-char hex SHA-256 digest; nullopt when malformed.
std::optional<PasswordDigest> parse_digest_hex(std::string_view hex);

}  // namespace tka::plugin
