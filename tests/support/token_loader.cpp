// Bulk token writer (see token_loader.hpp).
#include "tests/support/token_loader.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "common/events.hpp"
#include "common/identifiers.hpp"
#include "common/redis_keys.hpp"

namespace tka::test {

namespace {

IssuedToken new_token(const Organization& org, std::size_t i, UnixSeconds now,
                      const std::string& tag) {
    IssuedToken t;
    std::string email = "u";
    email.append(std::to_string(i)).append("-").append(tag).append("@bulk.example.com");
    const auto normalised = ids::normalise_email(email);
    if (!normalised) {
        std::string why = "bulk_create_tokens: bad e-mail tag '";
        throw std::invalid_argument(why.append(tag).append("'"));
    }
    t.email = *normalised;
    t.org_id = org.org_id;
    t.user_id = ids::derive_user_id(org.user_salt, t.email);
    t.token_id = ids::new_token_id();
    t.password = ids::new_token_password();
    t.ttl = org.ttl;
    t.expires_at = now + org.ttl;
    return t;
}

// What create_token writes for one new token of a user without earlier tokens.
void append_token(std::vector<std::vector<std::string>>& out, const IssuedToken& t,
                  const std::string& now_s, const BulkLoadOptions& options) {
    const std::string exp_s = std::to_string(t.expires_at);
    const std::string purge_s = std::to_string(t.expires_at + kExpiredRetentionSeconds);
    const std::string pw = crypto::sha256_hex(t.password);
    const std::string token_key = keys::token(t.org_id, t.token_id);
    const std::string user_key = keys::user_tokens(t.org_id, t.user_id);
    const std::string live_key = keys::user_live_tokens(t.org_id, t.user_id);
    out.push_back({"HSET", token_key, "user_id", t.user_id, "email", t.email, "pw", pw, "status",
                   "active", "created_at", now_s, "expires_at", exp_s, "ttl", std::to_string(t.ttl),
                   "refreshed_at", "0"});
    out.push_back({"EXPIREAT", token_key, purge_s});
    out.push_back({"SET", keys::password(t.org_id, pw), t.token_id, "EXAT", purge_s});
    if (options.user_index) {
        out.push_back({"SADD", user_key, t.token_id});
        out.push_back({"EXPIREAT", user_key, purge_s});
        out.push_back({"SADD", live_key, t.token_id});
        out.push_back({"EXPIREAT", live_key, purge_s});
        out.push_back({"SET", keys::token_org(t.token_id), t.org_id, "EXAT", purge_s});
    }
    if (options.events) {
        out.push_back({"XADD", keys::events(), "MAXLEN", "~", std::to_string(kEventStreamMaxLen),
                       "*", "type", "token.created", "org", t.org_id, "token", t.token_id, "user",
                       t.user_id, "pw", pw, "exp", exp_s});
    }
}

// Tokens first, first + step, ... below count, through one connection.
void write_share(RedisConnection& redis, const Organization& org, std::size_t first,
                 std::size_t step, std::size_t count, UnixSeconds now,
                 const BulkLoadOptions& options,
                 const std::function<void(std::size_t, const IssuedToken&)>& sink) {
    const std::string now_s = std::to_string(now);
    const std::string zkey = keys::org_tokens(org.org_id);
    std::string prune = "(";  // the script prunes members older than now - retention
    prune.append(std::to_string(now - kExpiredRetentionSeconds));
    const std::size_t batch = options.batch == 0 ? 1 : options.batch;
    std::vector<std::vector<std::string>> commands;
    std::size_t i = first;
    while (i < count) {
        commands.clear();
        std::vector<std::string> zadd = {"ZADD", zkey};
        for (std::size_t n = 0; n < batch && i < count; ++n, i += step) {
            const IssuedToken t = new_token(org, i, now, options.email_tag);
            append_token(commands, t, now_s, options);
            zadd.push_back(std::to_string(t.expires_at));
            zadd.push_back(t.token_id);
            if (sink) {
                sink(i, t);
            }
        }
        commands.push_back(std::move(zadd));
        commands.push_back({"ZREMRANGEBYSCORE", zkey, "-inf", prune});
        for (const RedisValue& reply : redis.pipeline(commands)) {
            reply.expect_ok("bulk token write");
        }
    }
}

}  // namespace

void bulk_create_tokens(RedisConnection& redis, const Organization& org, std::size_t count,
                        UnixSeconds now, const BulkLoadOptions& options,
                        const std::function<void(std::size_t, const IssuedToken&)>& sink) {
    const std::size_t n = std::max<std::size_t>(1, options.connections);
    if (n == 1) {
        write_share(redis, org, 0, 1, count, now, options, sink);
        return;
    }
    std::mutex mutex;  // serialises the sink and guards `error`
    std::string error;
    const auto locked_sink = [&](std::size_t i, const IssuedToken& t) {
        std::lock_guard<std::mutex> lock(mutex);
        sink(i, t);
    };
    std::vector<std::thread> writers;
    for (std::size_t w = 0; w < n; ++w) {
        writers.emplace_back([&, w] {
            try {
                RedisConnection own(redis.options());
                write_share(own, org, w, n, count, now, options,
                            sink ? std::function<void(std::size_t, const IssuedToken&)>(locked_sink)
                                 : nullptr);
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(mutex);
                error = e.what();
            }
        });
    }
    for (auto& t : writers) {
        t.join();
    }
    if (!error.empty()) {
        throw RedisError(error);
    }
}

}  // namespace tka::test
