// Writes tokens in the previous Redis layout (one hash per token, its `pw:` string, the
// user's `user:` and `live:` sets, the org's `tokens` sorted set and `tokenorg`), with raw
// commands, exactly as the previous create/revoke scripts left them: the input of the
// `tokenctl migrate` tests.
#pragma once

#include <optional>
#include <string>

#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"

namespace tka::test {

// `status`: active | revoked | replaced (revoked and replaced ones have no `pw:` key).
// `same`: write the keys of that token again (its id, password and user) instead of a new
// one. Returns the token (ttl and expires_at set, password included).
IssuedToken write_legacy_token(RedisConnection& redis, const Organization& org,
                               const std::string& email, const std::string& status,
                               UnixSeconds created, UnixSeconds expires, UnixSeconds refreshed = 0,
                               const std::optional<IssuedToken>& same = std::nullopt);

}  // namespace tka::test
