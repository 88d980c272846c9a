// TokenStore: token lifecycle on top of the Lua scripts of lua_scripts.hpp, over the compact
// layout of docs/redis-layout.md (records in bucket hashes, values of token_record.hpp).
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
#include "common/token_record.hpp"

namespace tka {
namespace {

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

const std::string kMaxLen = std::to_string(kEventStreamMaxLen);
const std::string kRetention = std::to_string(kExpiredRetentionSeconds);
// Bucket reads per pipelined round trip when listing.
constexpr std::size_t kBucketsPerRoundTrip = 256;

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

std::string user_bytes(const std::string& user_id) {
    auto raw = layout::unhex(user_id);
    if (!raw || raw->size() != layout::kUserIdBytes) {
        throw RedisError(std::string("not a derived user id: ").append(user_id));
    }
    return *raw;
}

unsigned org_bits(RedisConnection& redis, const std::string& org_id) {
    const RedisValue v = redis.command({"HGET", keys::org(org_id), "bits"}).expect_ok("org bits");
    return v.is_nil() ? 0
                      : static_cast<unsigned>(
                            std::min<std::int64_t>(to_int(v.str), layout::kMaxBucketBits));
}

std::string user_bucket_of(const std::string& org_id, unsigned generation,
                           const std::string& user_raw) {
    return keys::user_bucket(org_id, generation, layout::bucket_index(user_raw, generation));
}

// A record found in a user bucket, with what the scripts need to address it.
struct Found {
    TokenRecord record;
    std::string token_raw;
    std::string user_raw;
    unsigned generation = 0;
    char status = layout::kActive;
};

TokenRecord record_from(const std::string& org_id, const std::string& token_raw,
                        const layout::StoredRecord& r, const std::string& email, UnixSeconds now) {
    TokenRecord out;
    out.token_id = layout::token_id_text(token_raw);
    out.org_id = org_id;
    out.user_id = layout::hex(r.user);
    out.email = email;
    out.status = layout::status_text(r, now);
    out.created_at = r.created_at;
    out.expires_at = r.expires_at;
    out.refreshed_at = r.refreshed_at;
    out.ttl = r.ttl();
    return out;
}

// Every record still readable in the given user buckets (generation of each), optionally
// only those of one user, read with pipelined HGETALLs.
std::vector<Found> read_buckets(RedisConnection& redis, const std::string& org_id,
                                const std::vector<std::pair<std::string, unsigned>>& buckets,
                                const std::string* only_user, UnixSeconds now) {
    std::vector<Found> out;
    for (std::size_t first = 0; first < buckets.size(); first += kBucketsPerRoundTrip) {
        const std::size_t last = std::min(buckets.size(), first + kBucketsPerRoundTrip);
        std::vector<std::vector<std::string>> cmds;
        for (std::size_t i = first; i < last; ++i) {
            cmds.push_back({"HGETALL", buckets[i].first});
        }
        auto replies = redis.pipeline(cmds);
        for (std::size_t i = 0; i < replies.size(); ++i) {
            const RedisValue& h = replies[i].expect_ok("token list");
            std::map<std::string, std::string> emails;
            for (std::size_t j = 0; j + 1 < h.elements.size(); j += 2) {
                if (h.elements[j].str.size() == layout::kUserIdBytes) {
                    emails[h.elements[j].str] = h.elements[j + 1].str;
                }
            }
            for (std::size_t j = 0; j + 1 < h.elements.size(); j += 2) {
                const std::string& field = h.elements[j].str;
                if (field.size() != layout::kTokenIdBytes) {
                    continue;
                }
                const auto r = layout::decode_record(h.elements[j + 1].str);
                if (!r || r->gone(now, kExpiredRetentionSeconds) ||
                    (only_user && r->user != *only_user)) {
                    continue;
                }
                Found f;
                f.record = record_from(org_id, field, *r, emails[r->user], now);
                f.token_raw = field;
                f.user_raw = r->user;
                f.generation = buckets[first + i].second;
                f.status = r->status;
                out.push_back(std::move(f));
            }
        }
    }
    return out;
}

std::vector<Found> read_user(RedisConnection& redis, const std::string& org_id,
                             const std::string& user_raw, UnixSeconds now) {
    std::vector<std::pair<std::string, unsigned>> buckets;
    const unsigned bits = org_bits(redis, org_id);
    for (unsigned g = 0; g <= bits; ++g) {
        buckets.emplace_back(user_bucket_of(org_id, g, user_raw), g);
    }
    return read_buckets(redis, org_id, buckets, &user_raw, now);
}

std::vector<TokenRecord> sorted(std::vector<Found> found) {
    std::vector<TokenRecord> out;
    out.reserve(found.size());
    for (auto& f : found) {
        out.push_back(std::move(f.record));
    }
    std::sort(out.begin(), out.end(), [](const TokenRecord& a, const TokenRecord& b) {
        return a.expires_at != b.expires_at ? a.expires_at < b.expires_at : a.token_id < b.token_id;
    });
    return out;
}

// The record of a token id (any org), through the token index; nullopt when unknown or gone.
std::optional<Found> locate(RedisConnection& redis, const std::string& token_id, UnixSeconds now) {
    const auto token_raw = layout::token_id_bytes(token_id);
    if (!token_raw) {
        return std::nullopt;
    }
    const RedisValue loc_reply =
        redis.command({"HGET", keys::token_index(*token_raw), *token_raw}).expect_ok("token index");
    if (loc_reply.is_nil()) {
        return std::nullopt;
    }
    const auto loc = layout::decode_location(loc_reply.str);
    if (!loc || !ids::is_org_id(loc->org_id)) {
        return std::nullopt;
    }
    const RedisValue rec =
        redis
            .command({"HMGET", user_bucket_of(loc->org_id, loc->generation, loc->user), *token_raw,
                      loc->user})
            .expect_ok("token record");
    if (rec.elements.size() != 2 || rec.elements[0].is_nil()) {
        return std::nullopt;
    }
    const auto r = layout::decode_record(rec.elements[0].str);
    if (!r || r->gone(now, kExpiredRetentionSeconds)) {
        return std::nullopt;
    }
    Found f;
    f.record = record_from(loc->org_id, *token_raw, *r,
                           rec.elements[1].is_nil() ? std::string() : rec.elements[1].str, now);
    f.token_raw = *token_raw;
    f.user_raw = loc->user;
    f.generation = loc->generation;
    f.status = r->status;
    return f;
}

}  // namespace

std::string IssuedToken::username() const {
    return ids::format_username(user_id, org_id);
}

ScriptCall create_token_call(const IssuedToken& t, bool replace_existing, UnixSeconds now,
                             const std::string& key_digest, const std::string& salt_digest,
                             bool emit_event) {
    const auto token_raw = layout::token_id_bytes(t.token_id);
    if (!token_raw) {
        throw RedisError(std::string("not a token id: ").append(t.token_id));
    }
    const std::string user_raw = user_bytes(t.user_id);
    const std::string digest = crypto::sha256_bytes(t.password);
    ScriptCall call;
    call.keys = {keys::org(t.org_id), keys::events(), keys::secret_keys(t.org_id),
                 keys::token_index(*token_raw)};
    call.args = {keys::org_prefix(t.org_id),
                 t.org_id,
                 *token_raw,
                 t.token_id,
                 user_raw,
                 t.user_id,
                 t.email,
                 digest,
                 layout::hex(digest),
                 replace_existing ? "1" : "0",
                 std::to_string(now),
                 kRetention,
                 kMaxLen,
                 key_digest,
                 salt_digest,
                 layout::encode_location_prefix(t.org_id, user_raw),
                 std::to_string(kSweepBucketsPerCreate),
                 emit_event ? "1" : "0"};
    return call;
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
    const ScriptCall call =
        create_token_call(t, replace_existing, now, key_digest, salt_digest, true);
    auto reply = scripts::create_token().run(redis, call.keys, call.args);
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
    const std::string old_digest = crypto::sha256_bytes(current_password);
    const std::string new_digest = crypto::sha256_bytes(t.password);
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
    const auto token_raw = layout::token_id_bytes(t.token_id);
    const RedisValue loc_reply = redis_.command({"HGET", keys::token_index(*token_raw), *token_raw})
                                     .expect_ok("token refresh");
    const auto loc = loc_reply.is_nil() ? std::nullopt : layout::decode_location(loc_reply.str);
    if (!loc || !ids::is_org_id(loc->org_id)) {
        throw Denied(Refusal::unknown_token);
    }
    t.org_id = loc->org_id;
    const std::string bucket = user_bucket_of(t.org_id, loc->generation, loc->user);
    // Constant-time check first; the script then re-checks the digest as a compare-and-set,
    // so of several concurrent refreshes with one password exactly one wins. The new digest
    // is stored already when an earlier attempt of this refresh committed.
    const RedisValue stored =
        redis_.command({"HGET", bucket, *token_raw}).expect_ok("token refresh");
    const auto record = stored.is_nil() ? std::nullopt : layout::decode_record(stored.str);
    if (!record || record->gone(now, kExpiredRetentionSeconds)) {
        throw Denied(Refusal::unknown_token);
    }
    if (!crypto::constant_time_equal(record->digest, old_digest) &&
        !crypto::constant_time_equal(record->digest, new_digest)) {
        throw Denied(Refusal::wrong_password);
    }
    auto reply = scripts::refresh_token().run(
        redis_, {keys::org(t.org_id), keys::events()},
        {keys::org_prefix(t.org_id), t.org_id, *token_raw, t.token_id, loc->user,
         layout::hex(loc->user), std::to_string(loc->generation), old_digest, new_digest,
         layout::hex(new_digest), std::to_string(now), kRetention, kMaxLen});
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
                                    const std::vector<Found>& found, UnixSeconds now) {
    std::vector<std::string> args{keys::org_prefix(org_id), org_id, std::to_string(now), kMaxLen};
    for (const Found& f : found) {
        if (f.status != layout::kActive || f.record.expires_at <= now) {
            continue;  // nothing to revoke; the script would skip it too
        }
        args.insert(args.end(), {f.token_raw, f.record.token_id, f.user_raw,
                                 layout::hex(f.user_raw), std::to_string(f.generation)});
    }
    if (args.size() == 4) {
        return {};
    }
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
    if (!ids::is_org_id(org_id) || !ids::is_token_id(token_id)) {
        throw Denied(Refusal::unknown_token);
    }
    auto found = locate(redis_, token_id, now);
    if (!found || found->record.org_id != org_id) {
        throw Denied(Refusal::unknown_token);
    }
    auto revoked = run_revoke(redis_, org_id, {*found}, now);
    if (!revoked.empty()) {
        fence_replicas(redis_, observer_);
    }
    return revoked;
}

std::vector<std::string> TokenStore::revoke_email(const Organization& org, const std::string& email,
                                                  UnixSeconds now) {
    const std::string user_id = ids::derive_user_id(org.user_salt, normalised_or_throw(email));
    auto revoked = run_revoke(redis_, org.org_id,
                              read_user(redis_, org.org_id, user_bytes(user_id), now), now);
    if (!revoked.empty()) {
        fence_replicas(redis_, observer_);
    }
    return revoked;
}

std::vector<TokenRecord> TokenStore::list(const std::string& org_id, UnixSeconds now) {
    if (!ids::is_org_id(org_id)) {
        throw Denied(Refusal::bad_request, "invalid organization id");
    }
    const unsigned bits = org_bits(redis_, org_id);
    std::vector<std::pair<std::string, unsigned>> buckets;
    for (unsigned g = 0; g <= bits; ++g) {
        for (std::uint32_t i = 0; i < (std::uint32_t{1} << g); ++i) {
            buckets.emplace_back(keys::user_bucket(org_id, g, i), g);
        }
    }
    return sorted(read_buckets(redis_, org_id, buckets, nullptr, now));
}

std::vector<TokenRecord> TokenStore::list_email(const Organization& org, const std::string& email,
                                                UnixSeconds now) {
    const std::string user_id = ids::derive_user_id(org.user_salt, normalised_or_throw(email));
    return sorted(read_user(redis_, org.org_id, user_bytes(user_id), now));
}

std::optional<TokenRecord> TokenStore::get(const std::string& org_id, const std::string& token_id,
                                           UnixSeconds now) {
    if (!ids::is_org_id(org_id) || !ids::is_token_id(token_id)) {
        return std::nullopt;
    }
    auto found = locate(redis_, token_id, now);
    if (!found || found->record.org_id != org_id) {
        return std::nullopt;
    }
    return found->record;
}

AuthLookup TokenStore::authenticate(const std::string& org_id, const std::string& user_id,
                                    const std::string& password, UnixSeconds now) {
    return authenticate_raw(org_id, user_id, crypto::sha256_bytes(password), now);
}

AuthLookup TokenStore::authenticate(const std::string& org_id, const std::string& user_id,
                                    const std::array<std::uint8_t, 32>& password_digest,
                                    UnixSeconds now) {
    return authenticate_raw(
        org_id, user_id,
        std::string(reinterpret_cast<const char*>(password_digest.data()), password_digest.size()),
        now);
}

AuthLookup TokenStore::authenticate_raw(const std::string& org_id, const std::string& user_id,
                                        const std::string& digest, UnixSeconds now) {
    AuthLookup result;
    auto reply = scripts::authenticate().run(
        redis_, {keys::org(org_id)},
        {keys::org_prefix(org_id), digest, std::to_string(now), kRetention});
    const std::string& outcome = outcome_of(reply);
    if (outcome == "ok" && reply.elements.size() >= 4) {
        result.token_id = layout::token_id_text(reply.elements[1].str);
        result.user_id = layout::hex(reply.elements[2].str);
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

std::int64_t TokenStore::sweep(const std::string& org_id, UnixSeconds now, int buckets) {
    if (!ids::is_org_id(org_id)) {
        return 0;
    }
    auto reply = scripts::sweep_expired().run(
        redis_, {keys::org(org_id)},
        {keys::org_prefix(org_id), std::to_string(now), kRetention, std::to_string(buckets)});
    if (outcome_of(reply) != "ok" || reply.elements.size() < 2) {
        return 0;
    }
    return reply.elements[1].integer;
}

}  // namespace tka
