// TokenStore: token lifecycle on top of the Lua scripts of lua_scripts.hpp.
// Secrets never reach Redis: only SHA-256 digests of passwords are stored or sent.
#include "common/token_store.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/events.hpp"
#include "common/identifiers.hpp"
#include "common/lua_scripts.hpp"
#include "common/redis_keys.hpp"
#include "common/replica_wait.hpp"

namespace tka {
namespace {

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

const std::string kMaxLen = std::to_string(kEventStreamMaxLen);
const std::string kRetention = std::to_string(kExpiredRetentionSeconds);

std::string normalised_or_throw(const std::string& email) {
    auto normalised = ids::normalise_email(email);
    if (!normalised) {
        throw Denied(Refusal::bad_request, "user_email is not a valid e-mail address");
    }
    return *normalised;
}

// Throws the Denied a script's non-"ok" answer names; an answer that names no refusal
// means the script and this code disagree: RedisError.
[[noreturn]] void deny(const std::string& outcome) {
    if (const auto refusal = parse_refusal(outcome)) {
        throw Denied(*refusal);
    }
    throw RedisError(std::string("unexpected script answer '").append(outcome).append("'"));
}

const std::string& outcome_of(const RedisValue& reply) {
    static const std::string empty;
    return reply.elements.empty() ? empty : reply.elements[0].str;
}

TokenRecord record_from(const std::string& org_id, const std::string& token_id,
                        const RedisValue& hash, UnixSeconds now) {
    std::map<std::string, std::string> m;
    for (size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
        m[hash.elements[i].str] = hash.elements[i + 1].str;
    }
    TokenRecord r;
    r.token_id = token_id;
    r.org_id = org_id;
    r.user_id = m["user_id"];
    r.email = m["email"];
    r.created_at = to_int(m["created_at"]);
    r.expires_at = to_int(m["expires_at"]);
    r.refreshed_at = to_int(m["refreshed_at"]);
    r.ttl = to_int(m["ttl"]);
    r.status = m["status"];
    if (r.status == "active" && r.expires_at <= now) {
        r.status = "expired";
    }
    return r;
}

}  // namespace

std::string IssuedToken::username() const {
    return ids::format_username(user_id, org_id);
}

namespace {

// Runs create_token for a user id derived from `user_salt`; key_digest / salt_digest empty
// when the caller authenticated the org itself. nullopt: the script said "stale_salt".
// The replica fence runs before returning: brokers refuse a password their replica does
// not hold, so the new token works everywhere once this returns (and replaced ones stop).
std::optional<IssuedToken> run_create(RedisConnection& redis, const FenceObserver& observer,
                                      const std::string& org_id, const std::string& user_salt,
                                      const std::string& email, bool replace_existing,
                                      UnixSeconds now, const std::string& key_digest,
                                      const std::string& salt_digest) {
    IssuedToken t;
    t.email = normalised_or_throw(email);
    t.org_id = org_id;
    t.user_id = ids::derive_user_id(user_salt, t.email);
    t.token_id = ids::new_token_id();
    t.password = ids::new_token_password();
    auto reply = scripts::create_token().run(
        redis, {keys::org(org_id), keys::events(), keys::secret_keys(org_id)},
        {keys::org_prefix(org_id), org_id, t.token_id, t.user_id, t.email,
         crypto::sha256_hex(t.password), replace_existing ? "1" : "0", std::to_string(now),
         kRetention, kMaxLen, keys::token_org(t.token_id), key_digest, salt_digest});
    if (outcome_of(reply) == "stale_salt") {
        return std::nullopt;
    }
    if (outcome_of(reply) != "ok") {
        deny(outcome_of(reply));
    }
    confirm_replicated(redis);
    t.ttl = to_int(reply.elements.at(1).str);
    t.expires_at = to_int(reply.elements.at(2).str);
    fence_replicas(redis, observer);
    return t;
}

}  // namespace

IssuedToken TokenStore::create(const Organization& org, const std::string& email,
                               bool replace_existing, UnixSeconds now) {
    return *run_create(redis_, observer_, org.org_id, org.user_salt, email, replace_existing, now,
                       "", "");
}

std::optional<IssuedToken> TokenStore::create_with_key(const std::string& org_id,
                                                       const std::string& user_salt,
                                                       const std::string& secret_key,
                                                       const std::string& email,
                                                       bool replace_existing, UnixSeconds now) {
    if (!ids::is_org_id(org_id)) {
        throw Denied(Refusal::unknown_org, "unknown organization or wrong secret key");
    }
    if (!ids::is_secret_key(secret_key)) {
        throw Denied(Refusal::bad_secret_key, "unknown organization or wrong secret key");
    }
    return run_create(redis_, observer_, org_id, user_salt, email, replace_existing, now,
                      crypto::sha256_hex(secret_key), crypto::sha1_hex(user_salt));
}

IssuedToken TokenStore::refresh(const std::string& token_id, const std::string& current_password,
                                UnixSeconds now) {
    if (!ids::is_token_id(token_id)) {
        throw Denied(Refusal::unknown_token);
    }
    IssuedToken t;
    t.token_id = token_id;
    t.password = passwords_ ? passwords_() : ids::new_token_password();
    const std::string old_digest = crypto::sha256_hex(current_password);
    const std::string new_digest = crypto::sha256_hex(t.password);
    const auto started = std::chrono::steady_clock::now();
    const auto budget = kRefreshRetryBudget * redis_.options().command_timeout;
    for (int attempt = 0;; ++attempt) {
        try {
            refresh_once(t, old_digest, new_digest, now);
            break;
        } catch (const RedisError&) {
            // Only a broken connection may hide a committed refresh; an error reply left
            // the connection up and is final.
            if (redis_.connected() || attempt == kRefreshRetries ||
                std::chrono::steady_clock::now() - started >= budget) {
                throw;
            }
            redis_.disconnect();  // reconnect now, without the backoff
        }
    }
    fence_replicas(redis_, observer_);
    return t;
}

void TokenStore::refresh_once(IssuedToken& t, const std::string& old_digest,
                              const std::string& new_digest, UnixSeconds now) {
    const RedisValue org_reply =
        redis_.command({"GET", keys::token_org(t.token_id)}).expect_ok("token refresh");
    if (org_reply.is_nil() || !ids::is_org_id(org_reply.str)) {
        throw Denied(Refusal::unknown_token);
    }
    t.org_id = org_reply.str;
    // Constant-time check first; the script then re-checks the digest as a compare-and-set,
    // so of several concurrent refreshes with one password exactly one wins. The new digest
    // is stored already when an earlier attempt of this refresh committed.
    const RedisValue stored = redis_.command({"HGET", keys::token(t.org_id, t.token_id), "pw"})
                                  .expect_ok("token refresh");
    if (stored.is_nil()) {
        throw Denied(Refusal::unknown_token);
    }
    const bool is_old = crypto::constant_time_equal(stored.str, old_digest);
    const bool is_new = crypto::constant_time_equal(stored.str, new_digest);
    if (!is_old && !is_new) {
        throw Denied(Refusal::wrong_password);
    }
    auto reply = scripts::refresh_token().run(
        redis_, {keys::org(t.org_id), keys::events()},
        {keys::org_prefix(t.org_id), t.org_id, t.token_id, old_digest, new_digest,
         std::to_string(now), kRetention, kMaxLen, keys::token_org(t.token_id)});
    if (outcome_of(reply) != "ok") {
        deny(outcome_of(reply));
    }
    confirm_replicated(redis_);
    t.ttl = to_int(reply.elements.at(1).str);
    t.expires_at = to_int(reply.elements.at(2).str);
    t.user_id = reply.elements.at(3).str;
    t.email = reply.elements.at(4).str;
}

namespace {

std::vector<std::string> run_revoke(RedisConnection& redis, const std::string& org_id,
                                    const std::vector<std::string>& token_ids, UnixSeconds now) {
    if (token_ids.empty()) {
        return {};
    }
    std::vector<std::string> args{keys::org_prefix(org_id), org_id, std::to_string(now), kMaxLen};
    args.insert(args.end(), token_ids.begin(), token_ids.end());
    auto reply = scripts::revoke_tokens().run(redis, {keys::org(org_id), keys::events()}, args);
    confirm_replicated(redis);
    std::vector<std::string> revoked;
    for (size_t i = 1; i < reply.elements.size(); ++i) {
        revoked.push_back(reply.elements[i].str);
    }
    return revoked;
}

}  // namespace

std::vector<std::string> TokenStore::revoke(const std::string& org_id, const std::string& token_id,
                                            UnixSeconds now) {
    if (!ids::is_org_id(org_id) || !ids::is_token_id(token_id) ||
        redis_.command({"EXISTS", keys::token(org_id, token_id)}).expect_ok("revoke").integer ==
            0) {
        throw Denied(Refusal::unknown_token);
    }
    auto revoked = run_revoke(redis_, org_id, {token_id}, now);
    if (!revoked.empty()) {
        fence_replicas(redis_, observer_);
    }
    return revoked;
}

std::vector<std::string> TokenStore::revoke_email(const Organization& org, const std::string& email,
                                                  UnixSeconds now) {
    const std::string user_id = ids::derive_user_id(org.user_salt, normalised_or_throw(email));
    auto members = redis_.command({"SMEMBERS", keys::user_tokens(org.org_id, user_id)})
                       .expect_ok("revoke by e-mail");
    std::vector<std::string> ids;
    for (const auto& m : members.elements) {
        ids.push_back(m.str);
    }
    auto revoked = run_revoke(redis_, org.org_id, ids, now);
    if (!revoked.empty()) {
        fence_replicas(redis_, observer_);
    }
    return revoked;
}

namespace {

std::vector<TokenRecord> fetch_records(RedisConnection& redis, const std::string& org_id,
                                       const std::vector<std::string>& token_ids, UnixSeconds now) {
    std::vector<TokenRecord> out;
    if (token_ids.empty()) {
        return out;
    }
    std::vector<std::vector<std::string>> cmds;
    for (const auto& id : token_ids) {
        cmds.push_back({"HGETALL", keys::token(org_id, id)});
    }
    auto replies = redis.pipeline(cmds);
    for (size_t i = 0; i < replies.size(); ++i) {
        replies[i].expect_ok("token list");
        if (!replies[i].elements.empty()) {
            out.push_back(record_from(org_id, token_ids[i], replies[i], now));
        }
    }
    std::sort(out.begin(), out.end(), [](const TokenRecord& a, const TokenRecord& b) {
        return a.expires_at != b.expires_at ? a.expires_at < b.expires_at : a.token_id < b.token_id;
    });
    return out;
}

}  // namespace

std::vector<TokenRecord> TokenStore::list(const std::string& org_id, UnixSeconds now) {
    if (!ids::is_org_id(org_id)) {
        throw Denied(Refusal::bad_request, "invalid organization id");
    }
    auto reply =
        redis_.command({"ZRANGE", keys::org_tokens(org_id), "0", "-1"}).expect_ok("token list");
    std::vector<std::string> ids;
    for (const auto& e : reply.elements) {
        ids.push_back(e.str);
    }
    return fetch_records(redis_, org_id, ids, now);
}

std::vector<TokenRecord> TokenStore::list_email(const Organization& org, const std::string& email,
                                                UnixSeconds now) {
    const std::string user_id = ids::derive_user_id(org.user_salt, normalised_or_throw(email));
    auto reply = redis_.command({"SMEMBERS", keys::user_tokens(org.org_id, user_id)})
                     .expect_ok("token list");
    std::vector<std::string> ids;
    for (const auto& e : reply.elements) {
        ids.push_back(e.str);
    }
    return fetch_records(redis_, org.org_id, ids, now);
}

std::optional<TokenRecord> TokenStore::get(const std::string& org_id, const std::string& token_id,
                                           UnixSeconds now) {
    if (!ids::is_org_id(org_id) || !ids::is_token_id(token_id)) {
        return std::nullopt;
    }
    auto records = fetch_records(redis_, org_id, {token_id}, now);
    if (records.empty()) {
        return std::nullopt;
    }
    return records.front();
}

AuthLookup TokenStore::authenticate(const std::string& org_id, const std::string& user_id,
                                    const std::string& password, UnixSeconds now) {
    return authenticate_hex(org_id, user_id, crypto::sha256_hex(password), now);
}

AuthLookup TokenStore::authenticate(const std::string& org_id, const std::string& user_id,
                                    const std::array<std::uint8_t, 32>& password_digest,
                                    UnixSeconds now) {
    return authenticate_hex(
        org_id, user_id,
        crypto::hex(std::string_view(reinterpret_cast<const char*>(password_digest.data()),
                                     password_digest.size())),
        now);
}

AuthLookup TokenStore::authenticate_hex(const std::string& org_id, const std::string& user_id,
                                        const std::string& digest_hex, UnixSeconds now) {
    AuthLookup result;
    auto reply = scripts::authenticate().run(
        redis_, {keys::org(org_id)}, {keys::org_prefix(org_id), digest_hex, std::to_string(now)});
    const std::string& outcome = outcome_of(reply);
    if (outcome == "ok" && reply.elements.size() >= 4) {
        result.token_id = reply.elements[1].str;
        result.user_id = reply.elements[2].str;
        result.expires_at = to_int(reply.elements[3].str);
        if (result.user_id != user_id) {
            result.refusal = Refusal::user_mismatch;
        }
        return result;
    }
    const auto refusal = parse_refusal(outcome);
    if (!refusal) {
        throw RedisError(std::string("unexpected script answer '").append(outcome).append("'"));
    }
    result.refusal = *refusal;
    return result;
}

}  // namespace tka
