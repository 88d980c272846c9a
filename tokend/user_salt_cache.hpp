// The organizations' user_salt, cached in tokend so that a create costs one Redis round
// trip (the create script) instead of three (org, keys, script). The user id is derived in
// C++ (HMAC-SHA-256 with the salt), so the salt must be known before the script runs.
//
// Why a cache is safe: a salt is written once, when the organization is created, and never
// changed; the create script also compares the salt's SHA-1 with the org's and refuses to
// mint on a mismatch (an org deleted and re-created by hand), so a stale entry costs one
// retry, never a wrong user id. Only the salt is cached: the secret key, token auth and
// TTL are checked in Redis on every request. Unknown organizations are not cached.
// Thread-safe; bounded (cleared when full, the next requests read the salts again).
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/redis.hpp"

namespace tka::tokend {

class UserSaltCache {
  public:
    explicit UserSaltCache(std::size_t max_entries = 10000) : max_entries_(max_entries) {}

    // The salt of `org_id` from the cache, or read with `redis` (HGET) and cached.
    // nullopt: no such organization (or a malformed id). Throws RedisError.
    std::optional<std::string> get(RedisConnection& redis, const std::string& org_id);

    // Drops the entry of `org_id` (the create script found it stale).
    void forget(const std::string& org_id);

    std::size_t size() const;

  private:
    const std::size_t max_entries_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::string> salts_;
};

}  // namespace tka::tokend
