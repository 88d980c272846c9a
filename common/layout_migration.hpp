// Moving a store from the previous Redis layout (one hash per token plus its `pw:`,
// `user:`, `live:`, `tokenorg:` keys and the org's `tokens` sorted set) to the compact one of
// docs/redis-layout.md: `tokenctl migrate`, and the startup check with which tokend and the
// plugin refuse to ignore unmigrated tokens silently.
//
// Each token still in Redis is written into the new layout with the same id, password
// digest, user, e-mail, times and status (one script per token, which skips a token already
// there), a live one announced with a token.created event so that brokers' replicas learn
// it, then its old keys are deleted; the org's sorted set goes last. An interrupted run is
// resumed by running it again; a second run finds nothing to do.
#pragma once

#include <cstddef>

#include "common/redis.hpp"
#include "common/time_format.hpp"

namespace tka {

struct MigrationReport {
    std::size_t orgs = 0;              // organizations looked at
    std::size_t migrated = 0;          // tokens written into the new layout
    std::size_t already = 0;           // tokens found there already (an earlier, cut run)
    std::size_t gone = 0;              // listed, but their record had expired
    std::size_t old_keys_deleted = 0;  // keys of the previous layout deleted
};

MigrationReport migrate_legacy_layout(RedisConnection& redis, UnixSeconds now);

// Whether Redis still holds tokens in the previous layout: false once `tka:layout` says 2
// (set by a completed migration), else whether any organization has its `tokens` set.
bool legacy_layout_present(RedisConnection& redis);

// The message tokend and the plugin log at start when legacy_layout_present().
inline constexpr const char* kLegacyLayoutMessage =
    "Redis holds tokens in the previous layout, which this version does not read: run "
    "`tokenctl migrate` (tokens created before it cannot authenticate, refresh or be "
    "revoked until then)";

}  // namespace tka
