// The one module that owns every Redis key name (see docs/redis-layout.md).
// Every key of one organization carries the hash tag {org_id}, so the Lua scripts that
// touch several of them stay in one Cluster slot. Callers pass validated identifiers only.
#pragma once

#include <string>
#include <string_view>

namespace tka::keys {

inline constexpr std::string_view kPrefix = "tka:";

// "tka:{org_...}:" -- the prefix of every per-org key; scripts derive per-token keys from it.
std::string org_prefix(std::string_view org_id);

// HASH name, ttl, token_auth ("1"/"0"), user_salt, created_at
std::string org(std::string_view org_id);
// HASH key_id -> JSON {"digest": sha256 hex, "created_at": unix, "legacy": bool}
std::string secret_keys(std::string_view org_id);
// HASH user_id, email, pw (sha256 hex of the password), status (active|revoked|replaced),
//      created_at, expires_at, ttl, refreshed_at  -- EXPIREAT expires_at + 1 h
std::string token(std::string_view org_id, std::string_view token_id);
// STRING token_id -- lookup by password digest; deleted on refresh/revoke/replace
std::string password(std::string_view org_id, std::string_view password_digest_hex);
// SET of token ids of one user whose records may still exist (revoke by e-mail, listing);
// members whose record Redis deleted are pruned a few at a time by each create
std::string user_tokens(std::string_view org_id, std::string_view user_id);
// SET of the user's token ids that may still be live (replace_existing); while it exists
// it holds every active unexpired token of the user (create_token rebuilds it otherwise)
std::string user_live_tokens(std::string_view org_id, std::string_view user_id);
// ZSET token_id scored by expires_at (listing; pruned of entries purged from Redis)
std::string org_tokens(std::string_view org_id);

// Keys outside any one organization:
// SET of all organization ids
std::string org_index();
// STRING org_id -- lets /v2/tokens/refresh find the org of a token id
std::string token_org(std::string_view token_id);
// STREAM of lifecycle events consumed by brokers (docs/events.md)
std::string events();
// ZSET replica id -> Redis server time (ms) of its last heartbeat (common/replica_lease.hpp)
std::string replicas();
// HASH replica id -> last stream id that replica has applied
std::string replicas_applied();

}  // namespace tka::keys
