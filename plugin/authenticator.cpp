// CONNECT decisions (see authenticator.hpp).
#include "plugin/authenticator.hpp"

#include <utility>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/identifiers.hpp"
#include "common/layout_migration.hpp"
#include "common/token_store.hpp"
#include "plugin/credentials.hpp"

namespace tka::plugin {

Authenticator::Authenticator(RedisOptions options, Logger logger, TokenReplica* replica)
    : redis_(std::move(options)), replica_(replica), logger_(std::move(logger)) {}

void Authenticator::probe() {
    try {
        redis_.ensure_connected();
        logger_.log(LogLevel::info,
                    "connected to Redis at " + redis_.options().endpoint.redacted());
        note_success();
        warn_if_legacy_layout();
    } catch (const std::exception& e) {
        note_failure(e.what());
    }
}

void Authenticator::warn_if_legacy_layout() {
    try {
        if (legacy_layout_present(redis_)) {
            logger_.log(LogLevel::error, kLegacyLayoutMessage);
        }
    } catch (const std::exception& e) {
        // A Redis user without GET/SSCAN/EXISTS: the check is advisory only.
        logger_.log(LogLevel::debug, std::string("layout check skipped: ") + e.what());
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
            return AuthDecision::deny(Refusal::malformed_username);
        case Credentials::Kind::ours:
            break;
    }
    // classify() guarantees a password here.
    if (!ids::is_token_password(*password)) {
        return AuthDecision::deny(Refusal::malformed_password);
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
            d.token_id = format_lowercase_uuid(answer.token_id);
            d.org_id = std::move(pending.org_id);
            d.user_id = std::move(pending.user_id);
            d.expires_at = answer.expires_at;
            d.replica = AuthDecision::Replica::hit;
            return d;
        case ReplicaAnswer::Kind::expired:
            d = AuthDecision::deny(Refusal::expired);
            d.replica = AuthDecision::Replica::hit;
            return d;
        case ReplicaAnswer::Kind::user_mismatch:
            d = AuthDecision::deny(Refusal::user_mismatch);
            d.replica = AuthDecision::Replica::hit;
            return d;
        case ReplicaAnswer::Kind::token_auth_off:
            d = AuthDecision::deny(Refusal::token_auth_off);
            d.replica = AuthDecision::Replica::hit;
            return d;
        case ReplicaAnswer::Kind::unknown:
            // Trusted and complete: a password it does not hold is no live token.
            d = AuthDecision::deny(Refusal::unknown_token);
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
        return AuthDecision::deny(Refusal::redis_unavailable);
    }
    note_success();

    if (lookup.refusal) {
        return AuthDecision::deny(*lookup.refusal);
    }
    AuthDecision d;
    d.kind = AuthDecision::Kind::allow;
    d.token_id = std::move(lookup.token_id);
    d.org_id = org_id;
    d.user_id = user_id;
    d.expires_at = lookup.expires_at;
    // Belt and braces: never admit a token whose expiry is not in the future.
    if (d.expires_at <= now) {
        return AuthDecision::deny(Refusal::expired);
    }
    return d;
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
