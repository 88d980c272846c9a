// Tokens in Redis: minting, refreshing, revoking, listing, and the broker-side lookup.
// Every state change runs as one Lua script (common/lua_scripts.hpp) that also appends the
// matching event to the event stream, so the change and its announcement commit together.
// A change that makes a credential work or stop working (create, refresh, revoke) then
// waits for the brokers' token replicas (common/replica_fence.hpp) before it returns, so
// every broker accepts the new credential and none accepts the old one afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/refusal.hpp"
#include "common/replica_fence.hpp"
#include "common/time_format.hpp"

namespace tka {

// Expired token records stay readable this long after expires_at; then readers treat them as
// gone and the sweep deletes them (docs/redis-layout.md#expiry).
inline constexpr std::int64_t kExpiredRetentionSeconds = 3600;
// User buckets every 8th create of an org sweeps (its org's sweep cursor moves on by this
// many); a bucket holds about 32 records, so deletion outpaces creation.
inline constexpr int kSweepBucketsPerCreate = 1;

struct IssuedToken {
    std::string token_id;
    std::string password;  // tkn_..., returned once, stored only as a digest
    std::string org_id;
    std::string user_id;
    std::string email;
    std::int64_t ttl = 0;
    UnixSeconds expires_at = 0;
    std::string username() const;  // user_id@org_id
};

struct TokenRecord {
    std::string token_id;
    std::string org_id;
    std::string user_id;
    std::string email;
    std::string status;  // active | expired | revoked | replaced
    UnixSeconds created_at = 0;
    UnixSeconds expires_at = 0;
    UnixSeconds refreshed_at = 0;  // 0 when never refreshed
    std::int64_t ttl = 0;
};

// Outcome of checking MQTT credentials (plugin). Not an exception: "no" is a normal answer.
struct AuthLookup {
    // nullopt: a live token of this user; else unknown_token, expired, revoked (or
    // replaced), token_auth_off or user_mismatch.
    std::optional<Refusal> refusal;
    std::string token_id;        // when the password matched a token (user_mismatch too)
    std::string user_id;         // the token's user
    UnixSeconds expires_at = 0;  // unix seconds
    bool ok() const { return !refusal.has_value(); }
};

// Where refresh takes a new token password from (tests pin it; default: random).
using PasswordSource = std::function<std::string()>;

// A refresh whose connection breaks (I/O error, timeout) is retried with the same new
// password on a fresh connection, at most this many times, and a retry starts only while
// less than kRefreshRetryBudget x the command timeout has passed since the first attempt
// began: with a Redis that hangs, two attempts, about 2x the command timeout in all.
inline constexpr int kRefreshRetries = 2;
inline constexpr int kRefreshRetryBudget = 2;

// The create_token script call that writes `token` (its id, password, user and e-mail chosen
// by the caller; ttl and expires_at are the org's): what TokenStore::create runs, for bulk
// writers that pipeline many (tests/support/token_loader). `emit_event` false skips the
// token.created event (only for loaders whose store no broker reads).
struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
};
ScriptCall create_token_call(const IssuedToken& token, bool replace_existing, UnixSeconds now,
                             const std::string& key_digest, const std::string& salt_digest,
                             bool emit_event = true);

class TokenStore {
  public:
    // `observer`, when set, is told about every replica fence this store runs;
    // `passwords`, when set, replaces the random new password of refresh.
    explicit TokenStore(RedisConnection& redis, FenceObserver observer = {},
                        PasswordSource passwords = {})
        : redis_(redis), observer_(std::move(observer)), passwords_(std::move(passwords)) {}

    // Mints a token for `email` in an already authenticated organization. With
    // replace_existing, every earlier live token of that e-mail is retired in the same
    // atomic step; the replica fence runs before it returns. Throws Denied(bad_request) for a bad
    // e-mail, Denied(token_auth_off).
    IssuedToken create(const Organization& org, const std::string& email, bool replace_existing,
                       UnixSeconds now);

    // tokend's create: the same, with the secret key checked inside the same script, so it
    // costs one round trip. `user_salt` is the organization's, typically from a cache: the
    // script refuses to mint when it is not the org's salt and this returns std::nullopt
    // (read the salt again and retry). Throws Denied(unknown_org | bad_secret_key |
    // token_auth_off | bad_request).
    std::optional<IssuedToken> create_with_key(const std::string& org_id,
                                               const std::string& user_salt,
                                               const std::string& secret_key,
                                               const std::string& email, bool replace_existing,
                                               UnixSeconds now);

    // Rotates the password and restarts the TTL (the org's current TTL). Exactly one of
    // several concurrent refreshes with the same password succeeds; the replica fence runs
    // after every success. The new password is chosen before Redis is called; when the
    // connection breaks, the same (old, new) pair is sent again on a fresh connection
    // (kRefreshRetries), and the script answers a pair it already applied with the
    // record it wrote, so a refresh whose answer was lost still returns the new password.
    // Throws RedisError when every attempt broke, and
    // Denied(unknown_token | wrong_password | token_expired | token_revoked |
    // token_replaced | token_auth_off).
    IssuedToken refresh(const std::string& token_id, const std::string& current_password,
                        UnixSeconds now);

    // Revokes one token / every live token of an e-mail. Returns the ids revoked (already
    // dead tokens are not listed); the replica fence runs when that list is not empty. Throws
    // Denied(unknown_token) when the id is not in `org_id`.
    std::vector<std::string> revoke(const std::string& org_id, const std::string& token_id,
                                    UnixSeconds now);
    std::vector<std::string> revoke_email(const Organization& org, const std::string& email,
                                          UnixSeconds now);

    // Records still in Redis (live and up to 1 h expired), newest expiry last.
    std::vector<TokenRecord> list(const std::string& org_id, UnixSeconds now);
    std::vector<TokenRecord> list_email(const Organization& org, const std::string& email,
                                        UnixSeconds now);
    std::optional<TokenRecord> get(const std::string& org_id, const std::string& token_id,
                                   UnixSeconds now);

    // Broker side, one round trip: is `password` a live token of `username`'s user in its
    // org, with token auth on? `username` must already be a valid user_id@org_id.
    AuthLookup authenticate(const std::string& org_id, const std::string& user_id,
                            const std::string& password, UnixSeconds now);
    // The same with the password's raw SHA-256 digest already computed (the plugin hashes
    // once for its replica and for Redis).
    AuthLookup authenticate(const std::string& org_id, const std::string& user_id,
                            const std::array<std::uint8_t, 32>& password_digest, UnixSeconds now);

    // Deletes the records past expires_at + retention found in the next `buckets` user
    // buckets of the org (the org's sweep cursor moves on), with their index entries.
    // Returns the number of records deleted; 0 for an unknown org.
    std::int64_t sweep(const std::string& org_id, UnixSeconds now, int buckets);

  private:
    // One attempt of refresh: fills t's org, ttl, expiry, user and e-mail.
    void refresh_once(IssuedToken& t, const std::string& old_digest, const std::string& new_digest,
                      UnixSeconds now);
    AuthLookup authenticate_raw(const std::string& org_id, const std::string& user_id,
                                const std::string& digest, UnixSeconds now);

    RedisConnection& redis_;
    FenceObserver observer_;
    PasswordSource passwords_;
};

}  // namespace tka
