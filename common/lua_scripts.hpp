// The Lua scripts that make every token state change atomic in Redis, each appending its
// lifecycle event to the event stream in the same step (so stream order = commit order).
// Scripts receive the org hash and the event stream as KEYS and the org key prefix
// "tka:{org_id}:" as ARGV[1]; the per-token keys they derive from that prefix share the
// org's hash tag and therefore its Cluster slot. Every script answers with an array whose
// first element is "ok", the name of a tka::Refusal (common/refusal.hpp, read back with
// parse_refusal), or "stale_salt" (create: read the org's salt again and retry).
#pragma once

#include <string>
#include <vector>

#include "common/redis.hpp"

namespace tka {

class LuaScript {
  public:
    LuaScript(std::string name, std::string source);

    // EVALSHA, falling back to EVAL (which also caches the script) on NOSCRIPT.
    // Throws RedisError on a broken connection or an error reply.
    RedisValue run(RedisConnection& redis, const std::vector<std::string>& keys,
                   const std::vector<std::string>& args) const;
    // The same, but an error reply (e.g. NOPERM) is returned, not thrown; a broken
    // connection still throws RedisError.
    RedisValue eval(RedisConnection& redis, const std::vector<std::string>& keys,
                    const std::vector<std::string>& args) const;

    const std::string& name() const { return name_; }

  private:
    std::string name_;
    std::string source_;
    std::string sha1_;
};

namespace scripts {
// KEYS: org, events, secret keys. ARGV: prefix, org_id, token_id, user_id, email,
//   pw_digest, replace(1|0), now, retention, maxlen, token_org_key,
//   secret key digest ('' = caller authenticated otherwise), sha1 hex of the user_salt the
//   user id was derived with ('' = caller read the org itself)
// -> {"ok", ttl, expires_at, retired ids...} | {"unknown_org"} | {"bad_secret_key"} |
//    {"stale_salt"} | {"token_auth_off"}
const LuaScript& create_token();
// KEYS: org, events. ARGV: prefix, org_id, token_id, old_digest, new_digest, now,
//   retention, maxlen, token_org_key
// -> {"ok", ttl, expires_at, user_id, email} | {reason}
// Idempotent for one (old_digest, new_digest) pair: when the stored digest is new_digest
// and the token is active and unexpired, the refresh was applied already (its answer was
// lost); it answers "ok" with the record's ttl, expires_at, user_id, email and writes
// nothing. Any other digest than old_digest: {"wrong_password"}.
const LuaScript& refresh_token();
// KEYS: org, events. ARGV: prefix, org_id, now, maxlen, token ids...
// -> {"ok", revoked ids...}
const LuaScript& revoke_tokens();
// KEYS: org, events. ARGV: org_id, ttl or "", token_auth "1"/"0" or "", maxlen
// -> {"ok", token_auth, ttl} | {"unknown_org"}
const LuaScript& update_org();
// KEYS: org. ARGV: prefix, pw_digest, now
// -> {"ok", token_id, user_id, expires_at} | {"unknown"|"expired"|"revoked"|"token_auth_off"}
const LuaScript& authenticate();

// Replica registry (common/replica_lease.hpp). Both read Redis's clock with TIME.
// KEYS: replicas (zset), replicas_applied (hash), events.
// ARGV: replica_id, applied_id, stale_ms, forget_ms
// Registers the heartbeat (score = server ms, applied id) and deletes registrations older
// than forget_ms. -> {prev_fresh (1|0), stream last id ("0-0" when empty), server ms}
const LuaScript& replica_heartbeat();
// KEYS: events, replicas (zset), replicas_applied (hash).
// ARGV: target id or "" (first call: the stream's last id), start ms or "" (first call:
//   server now), stale_ms
// Looks at registrations that were fresh at `start` or later. -> {target, start ms,
//   lagging (fresh now, applied < target), dropped (stale now, applied < target)}
const LuaScript& replica_fence();
}  // namespace scripts

}  // namespace tka
