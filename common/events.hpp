// Lifecycle events that tokend/tokenctl append to the Redis stream keys::events() inside
// the same Lua script as the state change (so stream order is commit order), and that every
// broker consumes. Format documented in docs/events.md.
//
// Stream entry fields (all strings):
//   type=token.created   org, token, user, pw (sha256 hex), exp (unix s)
//   type=token.refreshed org, token, user, pw (new digest), exp (new expires_at)
//   type=token.revoked   org, token, user, reason (revoked|replaced)
//   type=org.updated     org, token_auth ("1"|"0"), ttl
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tka {

struct Event {
    enum class Type { token_created, token_refreshed, token_revoked, org_updated };
    std::string id;  // stream entry id "ms-seq"
    Type type = Type::token_created;
    std::string org_id;
    std::string token_id;         // token events
    std::string user_id;          // token events
    std::string password_digest;  // created/refreshed
    std::int64_t expires_at = 0;  // created/refreshed
    std::string reason;           // revoked: "revoked" | "replaced"
    bool token_auth = true;       // org.updated
    std::int64_t ttl = 0;         // org.updated
};

// Maximum stream length kept (approximate trimming, MAXLEN ~).
inline constexpr long long kEventStreamMaxLen = 100000;

// Parses one stream entry's field list; nullopt for unknown types or missing fields
// (consumers skip such entries rather than fail).
std::optional<Event> parse_event(std::string id,
                                 const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace tka
