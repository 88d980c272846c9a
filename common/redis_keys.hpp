// The one module that owns every Redis key name (see docs/redis-layout.md).
// Every key of one organization carries the hash tag {org_id}, so the Lua scripts that
// touch several of them stay in one Cluster slot. Callers pass validated identifiers only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tka::keys {

inline constexpr std::string_view kPrefix = "tka:";

// "tka:{org_...}:" -- the prefix of every per-org key; scripts derive per-token keys from it.
std::string org_prefix(std::string_view org_id);

// HASH name, ttl, token_auth ("1"/"0"), user_salt, created_at
std::string org(std::string_view org_id);
// HASH key_id -> JSON {"digest": sha256 hex, "prefix": first 7 chars, "created_at": unix,
//                     "legacy": bool}
std::string secret_keys(std::string_view org_id);
// Token records and their indexes live as fields of bucket hashes (docs/redis-layout.md,
// common/token_record.hpp for the values). Bucket `index` of generation `generation` (the
// first `generation` bits of the identifier the bucket is chosen by). The Lua scripts
// derive the same names from org_prefix(): prefix + kUserBucketInfix + generation + ":" +
// lowercase hex index.
inline constexpr std::string_view kUserBucketInfix = "u:";
inline constexpr std::string_view kPasswordBucketInfix = "p:";
// HASH user id bytes -> e-mail; token id bytes -> packed record (bucket by user id)
std::string user_bucket(std::string_view org_id, unsigned generation, std::uint32_t index);
// HASH password digest bytes -> token id bytes + user id bytes + record generation
// (bucket by digest); deleted on refresh, revoke, replace
std::string password_bucket(std::string_view org_id, unsigned generation, std::uint32_t index);

// Keys outside any one organization:
// SET of all organization ids
std::string org_index();
// HASH token id bytes -> org id + user id bytes + record generation: lets
// /v2/tokens/refresh, which carries only a token id, find the record. 65536 buckets by the
// first two bytes of the token id; the scripts derive the name from kTokenIndexPrefix.
inline constexpr std::string_view kTokenIndexPrefix = "tka:tok:";
std::string token_index(std::string_view token_id_bytes);
// STRING "2" once the store holds the compact layout (tokenctl migrate, or a fresh store)
std::string layout_version();
// STREAM of lifecycle events consumed by brokers (docs/events.md)
std::string events();
// ZSET replica id -> Redis server time (ms) of its last heartbeat (common/replica_lease.hpp)
std::string replicas();
// HASH replica id -> last stream id that replica has applied
std::string replicas_applied();
// The operator dashboard (common/admin_store.hpp):
// HASH admin name -> JSON {"password", "created_at", "password_changed_at"}
std::string admins();
// HASH admin, csrf, created_at, last_seen; TTL = the idle timeout
std::string admin_session(std::string_view session_digest_hex);
// SET of the session digests of one admin (ended by delete and reset-password)
std::string admin_sessions_of(std::string_view admin_name);

// The previous layout (one hash per token and four more keys), read only by
// `tokenctl migrate` and the startup check that refuses to ignore unmigrated data.
namespace legacy {
std::string token(std::string_view org_id, std::string_view token_id);
std::string password(std::string_view org_id, std::string_view password_digest_hex);
std::string user_tokens(std::string_view org_id, std::string_view user_id);
std::string user_live_tokens(std::string_view org_id, std::string_view user_id);
std::string org_tokens(std::string_view org_id);
std::string token_org(std::string_view token_id);
}  // namespace legacy

}  // namespace tka::keys
