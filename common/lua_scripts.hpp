// The Lua scripts that make every token state change atomic in Redis, each appending its
// lifecycle event to the event stream in the same step (so stream order = commit order).
// Scripts receive the org hash and the event stream as KEYS and the org key prefix
// "tka:{org_id}:" as ARGV[1]; the bucket keys they derive from that prefix
// (docs/redis-layout.md) share the org's hash tag and therefore its Cluster slot.
// What this means for deployments: on a single Redis or a Sentinel-managed primary every
// script works as is. Redis Cluster would need more: the event stream and the token index
// (`tka:tok:*`, written by create, deleted by the sweep) are global keys outside the org's
// slot, and Cluster lets a script touch undeclared keys only in the slot of its declared
// ones (the bucket keys are; those two are not). docs/redis-layout.md#redis-cluster says
// what moving there takes.
// Every script answers with an array whose first element is "ok", the name of a
// tka::Refusal (common/refusal.hpp, read back with parse_refusal), or "stale_salt" (create:
// read the org's salt again and retry). Identifiers travel as raw bytes (token id 16, user
// id 12, password digest 32: common/token_record.hpp) except in events and in the
// `_s` text forms passed for them.
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

    // SCRIPT LOAD, so that pipelined EVALSHAs (bulk writers) find the script cached.
    void load(RedisConnection& redis) const;
    // The EVALSHA command line, for pipelining after load().
    std::vector<std::string> evalsha_command(const std::vector<std::string>& keys,
                                             const std::vector<std::string>& args) const;

    const std::string& name() const { return name_; }

  private:
    std::string name_;
    std::string source_;
    std::string sha1_;
};

namespace scripts {
// KEYS: org, events, secret keys, token index bucket of the new id.
// ARGV: prefix, org_id, token_id bytes, token_id text, user bytes, user hex, email,
//   pw digest bytes, pw digest hex, replace(1|0), now, retention, maxlen,
//   secret key digest ('' = caller authenticated otherwise), sha1 hex of the user_salt the
//   user id was derived with ('' = caller read the org itself), token index value without
//   its generation byte, buckets to sweep, emit token.created (1|0: bulk loaders only)
// -> {"ok", ttl, expires_at, retired ids...} | {"unknown_org"} | {"bad_secret_key"} |
//    {"stale_salt"} | {"token_auth_off"}
const LuaScript& create_token();
// KEYS: org, events. ARGV: prefix, org_id, token_id bytes, token_id text, user bytes,
//   user hex, record generation, old digest bytes, new digest bytes, new digest hex, now,
//   retention, maxlen
// -> {"ok", ttl, expires_at, user_id, email} | {reason}. When the record already holds the
// new digest (active, unexpired), the refresh was applied before and its reply lost: the
// answer is "ok" with that refresh's ttl, expires_at, user and e-mail, nothing changes (or
// revoked / replaced / expired when the token has ended since).
const LuaScript& refresh_token();
// KEYS: org, events. ARGV: prefix, org_id, now, maxlen, then per token: id bytes, id text,
//   user bytes, user hex, record generation
// -> {"ok", revoked ids...}
const LuaScript& revoke_tokens();
// KEYS: org, events. ARGV: org_id, ttl or "", token_auth "1"/"0" or "", maxlen
// -> {"ok", token_auth, ttl} | {"unknown_org"}
const LuaScript& update_org();
// KEYS: org. ARGV: prefix, pw digest bytes, now, retention
// -> {"ok", token_id bytes, user bytes, expires_at} |
//    {"unknown_token"|"expired"|"revoked"|"token_auth_off"}
const LuaScript& authenticate();
// KEYS: org. ARGV: prefix, now, retention, buckets
// Deletes records past expires_at + retention in the next `buckets` user buckets of the
// org (cursor in the org hash) with their index entries. -> {"ok", records deleted} |
// {"unknown_org"}
const LuaScript& sweep_expired();
// tokenctl migrate: writes one token read from the previous layout.
// KEYS: org, token index bucket, events. ARGV: prefix, token id bytes, user bytes, email,
//   digest bytes, packed record, token index value without its generation byte,
//   indexed (1: active, gets a password index entry), live (1: announce token.created),
//   org_id, token id text, user hex, digest hex, expires_at, maxlen
// -> {1} written | {0} the token index has it already
const LuaScript& import_token();

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
