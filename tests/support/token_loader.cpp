// Bulk token writer (see token_loader.hpp).
#include "tests/support/token_loader.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/identifiers.hpp"
#include "common/lua_scripts.hpp"

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

// Tokens first, first + step, ... below count, through one connection.
void write_share(RedisConnection& redis, const Organization& org, std::size_t first,
                 std::size_t step, std::size_t count, UnixSeconds now,
                 const BulkLoadOptions& options,
                 const std::function<void(std::size_t, const IssuedToken&)>& sink) {
    const LuaScript& create = scripts::create_token();
    create.load(redis);
    const std::size_t batch = options.batch == 0 ? 1 : options.batch;
    std::vector<std::vector<std::string>> commands;
    std::size_t i = first;
    while (i < count) {
        commands.clear();
        for (std::size_t n = 0; n < batch && i < count; ++n, i += step) {
            const IssuedToken t = new_token(org, i, now, options.email_tag);
            const ScriptCall call = create_token_call(t, false, now, "", "", options.events);
            commands.push_back(create.evalsha_command(call.keys, call.args));
            if (sink) {
                sink(i, t);
            }
        }
        for (const RedisValue& reply : redis.pipeline(commands)) {
            reply.expect_ok("bulk token write");
            if (reply.elements.empty() || reply.elements[0].str != "ok") {
                throw RedisError("bulk token write: the create script refused");
            }
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
