// The CONNECT decision for one set of credentials: defer (not a token credential), allow
// (with what the tracker needs: token id, org, user, expiry) or deny (with a reason).
//
// Two steps. decide_in_memory() never touches the network: it classifies the credentials,
// checks the password's shape, hashes it once and asks the token replica (plugin_opt_cache
// on, token_replica.hpp); while the replica is trusted, that is the answer, "no such token"
// included when it is complete (a wrong password costs Redis nothing). Otherwise it returns a
// PendingLookup, and lookup() asks Redis (one round trip, TokenStore::authenticate) and puts a
// successful answer into the replica (TokenReplica::fill). authenticate() runs both in a row, on
// the broker thread (Mosquitto 2.0); with Mosquitto 2.1's delayed basic auth, lookup() runs on the
// LookupWorker's thread instead, on that worker's own Authenticator (lookup_worker.hpp).
//
// Each Authenticator owns its own Redis connection, used by one thread. Redis trouble means
// deny (fail closed); the connection's backoff makes further attempts fail fast while Redis
// is down, and the transitions "Redis lost" / "Redis back" are logged once each, not per
// CONNECT.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/redis.hpp"
#include "common/refusal.hpp"
#include "common/time_format.hpp"
#include "plugin/logger.hpp"
#include "plugin/token_replica.hpp"

namespace tka::plugin {

struct AuthDecision {
    // delayed: the answer comes later, from a Redis lookup off the broker thread.
    enum class Kind { defer, allow, deny, delayed };
    Kind kind = Kind::defer;
    // allow:
    std::string token_id;
    std::string org_id;
    std::string user_id;
    UnixSeconds expires_at = 0;  // unix seconds
    // deny: why (common/refusal.hpp; the name is logged, see docs/plugin.md)
    Refusal reason = Refusal::unknown_token;
    // Where a token credential's answer came from (counters; off: no replica or deferred).
    // hit: decided in memory (refusals included); miss: the replica is incomplete and does
    // not hold it; untrusted: not caught up or no lease.
    enum class Replica { off, hit, miss, untrusted };
    Replica replica = Replica::off;

    static AuthDecision defer() { return {}; }
    static AuthDecision deny(Refusal why) {
        AuthDecision d;
        d.kind = Kind::deny;
        d.reason = why;
        return d;
    }
};

// A token credential the memory could not decide: what the Redis lookup needs.
struct PendingLookup {
    std::string org_id;
    std::string user_id;
    PasswordDigest digest{};            // SHA-256 of the password
    std::uint64_t replica_version = 0;  // TokenReplica::version() before it was asked
    AuthDecision::Replica replica = AuthDecision::Replica::off;  // miss or untrusted
    UnixSeconds now = 0;  // when the CONNECT arrived (unix seconds)
};

class Authenticator {
  public:
    // `replica` may be null (plugin_opt_cache off); it must outlive the authenticator.
    Authenticator(RedisOptions options, Logger logger, TokenReplica* replica = nullptr);

    // username/password: nullopt when the CONNECT carried none. `now` in unix seconds.
    // Both steps below in a row.
    AuthDecision authenticate(std::optional<std::string_view> username,
                              std::optional<std::string_view> password, UnixSeconds now);

    // Step one, without I/O: a final decision, or what Redis must be asked.
    std::variant<AuthDecision, PendingLookup> decide_in_memory(
        std::optional<std::string_view> username, std::optional<std::string_view> password,
        UnixSeconds now) const;
    // Step two: asks Redis; fills the replica on success.
    AuthDecision lookup(const PendingLookup& pending);

    // Connects now (at plugin start, or while Redis is down) so an unreachable Redis is
    // reported early and a recovered one noticed; then logs an error when Redis still holds
    // tokens in the previous layout (tokenctl migrate); never throws.
    void probe();

    // Whether the last Redis exchange worked (false from the first failure until a success).
    bool redis_healthy() const { return healthy_; }
    std::uint64_t redis_failures() const { return failures_; }

  private:
    // Logs an error when Redis still holds tokens in the previous layout (never throws).
    void warn_if_legacy_layout();
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
