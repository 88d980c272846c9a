// The CONNECT decision for one set of credentials: defer (not a token credential), allow
// (with what the tracker needs: token id, org, user, expiry) or deny (with a reason).
// Owns its own Redis connection, used only from the broker thread, one round trip per
// token CONNECT (TokenStore::authenticate). Redis trouble means deny (fail closed); the
// connection's backoff makes further attempts fail fast while Redis is down, and the
// transitions "Redis lost" / "Redis back" are logged once each, not per CONNECT.
//
// With a token replica (plugin_opt_cache on, token_replica.hpp) the replica is asked first:
// while it is trusted and knows the credential, the decision is made from memory and Redis
// is not asked at all. Untrusted or a miss: the Redis lookup above, as without a replica,
// and a successful answer is put into the replica (TokenReplica::fill).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "plugin/logger.hpp"
#include "plugin/token_replica.hpp"

namespace tka::plugin {

// Why a token CONNECT was refused; the names appear in the log and in docs/plugin.md.
enum class DenyReason {
    malformed_username,  // "...@org_..." but not a valid user_id@org_id
    malformed_password,  // "tkn_..." but not a well-formed token password
    unknown_token,       // no live token with this password in the org
    expired,             // the token's expires_at has passed
    revoked,             // revoked or replaced
    token_auth_off,      // the organization has token auth switched off
    user_mismatch,       // the token belongs to another user of the org
    redis_unavailable,   // Redis could not be asked: fail closed
};

std::string_view deny_reason_name(DenyReason reason);

struct AuthDecision {
    enum class Kind { defer, allow, deny };
    Kind kind = Kind::defer;
    // allow:
    std::string token_id;
    std::string org_id;
    std::string user_id;
    UnixSeconds expires_at = 0;  // unix seconds
    // deny:
    DenyReason reason = DenyReason::unknown_token;
    // Where a token credential's answer came from (counters; off: no replica or deferred).
    enum class Replica { off, hit, miss, untrusted };
    Replica replica = Replica::off;

    static AuthDecision defer() { return {}; }
    static AuthDecision deny(DenyReason why) {
        AuthDecision d;
        d.kind = Kind::deny;
        d.reason = why;
        return d;
    }
};

class Authenticator {
  public:
    // `replica` may be null (plugin_opt_cache off); it must outlive the authenticator.
    Authenticator(RedisOptions options, Logger logger, TokenReplica* replica = nullptr);

    // username/password: nullopt when the CONNECT carried none. `now` in unix seconds.
    AuthDecision authenticate(std::optional<std::string_view> username,
                              std::optional<std::string_view> password, UnixSeconds now);

    // Connects now (at plugin start) so an unreachable Redis is reported early; never throws.
    void probe();

    // Whether the last Redis exchange worked (false from the first failure until a success).
    bool redis_healthy() const { return healthy_; }
    std::uint64_t redis_failures() const { return failures_; }

  private:
    void note_failure(const std::string& what);
    void note_success();
    AuthDecision from_redis(const std::string& org_id, const std::string& user_id,
                            const PasswordDigest& digest, UnixSeconds now);

    RedisConnection redis_;
    TokenReplica* replica_ = nullptr;
    Logger logger_;
    bool healthy_ = true;
    std::uint64_t failures_ = 0;  // Redis errors since start
};

}  // namespace tka::plugin
