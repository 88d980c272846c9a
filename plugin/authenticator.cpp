// CONNECT decisions (see authenticator.hpp).
#include "plugin/authenticator.hpp"

#include <utility>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/identifiers.hpp"
#include "common/token_store.hpp"
#include "plugin/credentials.hpp"

namespace tka::plugin {

std::string_view deny_reason_name(DenyReason reason) {
    switch (reason) {
        case DenyReason::malformed_username:
            return "malformed_username";
        case DenyReason::malformed_password:
            return "malformed_password";
        case DenyReason::unknown_token:
            return "unknown_token";
        case DenyReason::expired:
            return "expired";
        case DenyReason::revoked:
            return "revoked";
        case DenyReason::token_auth_off:
            return "token_auth_off";
        case DenyReason::user_mismatch:
            return "user_mismatch";
        case DenyReason::redis_unavailable:
            return "redis_unavailable";
        case DenyReason::no_tick_events:
            return "no_tick_events";
        case DenyReason::busy:
            return "busy";
        case DenyReason::backoff:
            return "backoff";
    }
    return "unknown";
}

Authenticator::Authenticator(RedisOptions options, Logger logger, TokenReplica* replica)
    : redis_(std::move(options)), replica_(replica), logger_(std::move(logger)) {}

void Authenticator::probe() {
    try {
        redis_.ensure_connected();
        logger_.log(LogLevel::info,
                    "connected to Redis at " + redis_.options().endpoint.redacted());
        note_success();
    } catch (const std::exception& e) {
        note_failure(e.what());
    }
}

AuthDecision Authenticator::authenticate(std::optional<std::string_view> username,
                                         std::optional<std::string_view> password,
                                         UnixSeconds now) {
    auto first = decide_in_memory(username, password, now);
    if (auto* decided = std::get_if<AuthDecision>(&first)) {
        return std::move(*decided);
    }
    return lookup(std::get<PendingLookup>(first));
}

std::variant<AuthDecision, PendingLookup> Authenticator::decide_in_memory(
    std::optional<std::string_view> username, std::optional<std::string_view> password,
    UnixSeconds now) const {
    Credentials creds = classify(username, password);
    switch (creds.kind) {
        case Credentials::Kind::not_ours:
            return AuthDecision::defer();
        case Credentials::Kind::malformed_username:
            return AuthDecision::deny(DenyReason::malformed_username);
        case Credentials::Kind::ours:
            break;
    }
    // classify() guarantees a password here.
    if (!ids::is_token_password(*password)) {
        return AuthDecision::deny(DenyReason::malformed_password);
    }
    PendingLookup pending;
    pending.org_id = std::move(creds.org_id);
    pending.user_id = std::move(creds.user_id);
    // Hashed once: the replica and Redis both take the digest.
    pending.digest = crypto::sha256(*password);
    pending.now = now;
    if (replica_ == nullptr) {
        return pending;
    }

    // Taken before Redis is asked: fill() refuses if any event was applied meanwhile.
    pending.replica_version = replica_->version();
    ReplicaAnswer answer = replica_->lookup(pending.org_id, pending.user_id, pending.digest, now);
    AuthDecision d;
    switch (answer.kind) {
        case ReplicaAnswer::Kind::allow:
            d.kind = AuthDecision::Kind::allow;
            d.token_id = std::move(answer.token_id);
            d.org_id = std::move(pending.org_id);
            d.user_id = std::move(pending.user_id);
            d.expires_at = answer.expires_at;
            d.replica = AuthDecision::Replica::hit;
            return d;
        case ReplicaAnswer::Kind::expired:
            d = AuthDecision::deny(DenyReason::expired);
            d.replica = AuthDecision::Replica::hit;
            return d;
        case ReplicaAnswer::Kind::user_mismatch:
            d = AuthDecision::deny(DenyReason::user_mismatch);
            d.replica = AuthDecision::Replica::hit;
            return d;
        case ReplicaAnswer::Kind::token_auth_off:
            d = AuthDecision::deny(DenyReason::token_auth_off);
            d.replica = AuthDecision::Replica::hit;
            return d;
        case ReplicaAnswer::Kind::untrusted:
        case ReplicaAnswer::Kind::miss:
            break;
    }
    pending.replica = answer.kind == ReplicaAnswer::Kind::miss ? AuthDecision::Replica::miss
                                                               : AuthDecision::Replica::untrusted;
    return pending;
}

AuthDecision Authenticator::lookup(const PendingLookup& pending) {
    AuthDecision d = from_redis(pending.org_id, pending.user_id, pending.digest, pending.now);
    d.replica = pending.replica;
    if (replica_ != nullptr && d.kind == AuthDecision::Kind::allow) {
        replica_->fill(pending.replica_version, d.org_id, d.user_id, d.token_id, pending.digest,
                       d.expires_at, pending.now);
    }
    return d;
}

AuthDecision Authenticator::from_redis(const std::string& org_id, const std::string& user_id,
                                       const PasswordDigest& digest, UnixSeconds now) {
    AuthLookup lookup;
    try {
        TokenStore store(redis_);
        lookup = store.authenticate(org_id, user_id, digest, now);
    } catch (const std::exception& e) {
        // RedisError, or anything unexpected from the store: refuse, never guess.
        note_failure(e.what());
        return AuthDecision::deny(DenyReason::redis_unavailable);
    }
    note_success();

    switch (lookup.result) {
        case AuthLookup::Result::ok: {
            AuthDecision d;
            d.kind = AuthDecision::Kind::allow;
            d.token_id = std::move(lookup.token_id);
            d.org_id = org_id;
            d.user_id = user_id;
            d.expires_at = lookup.expires_at;
            // Belt and braces: never admit a token whose expiry is not in the future.
            if (d.expires_at <= now) {
                return AuthDecision::deny(DenyReason::expired);
            }
            return d;
        }
        case AuthLookup::Result::unknown:
            return AuthDecision::deny(DenyReason::unknown_token);
        case AuthLookup::Result::expired:
            return AuthDecision::deny(DenyReason::expired);
        case AuthLookup::Result::revoked:
            return AuthDecision::deny(DenyReason::revoked);
        case AuthLookup::Result::token_auth_off:
            return AuthDecision::deny(DenyReason::token_auth_off);
        case AuthLookup::Result::user_mismatch:
            return AuthDecision::deny(DenyReason::user_mismatch);
    }
    return AuthDecision::deny(DenyReason::unknown_token);
}

void Authenticator::note_failure(const std::string& what) {
    ++failures_;
    if (healthy_) {
        healthy_ = false;
        logger_.log(LogLevel::warning, "Redis unavailable (" + what +
                                           "); token connections are refused until it is back");
    } else {
        logger_.log(LogLevel::debug, "Redis still unavailable (" + what + ")");
    }
}

void Authenticator::note_success() {
    if (!healthy_) {
        healthy_ = true;
        logger_.log(LogLevel::notice, "Redis reachable again; token connections accepted");
    }
}

}  // namespace tka::plugin
