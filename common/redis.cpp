// RedisConnection and RedisPool over hiredis. All hiredis failure handling lives here:
// a context error marks the connection broken (never reused), an error reply is data.
#include "common/redis.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <thread>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace tka {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

RedisValue convert(const redisReply* r) {
    RedisValue v;
    switch (r->type) {
        case REDIS_REPLY_STRING:
            v.type = RedisValue::Type::string;
            v.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            v.type = RedisValue::Type::status;
            v.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ERROR:
            v.type = RedisValue::Type::error;
            v.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            v.type = RedisValue::Type::integer;
            v.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            v.type = RedisValue::Type::array;
            v.elements.reserve(r->elements);
            for (size_t i = 0; i < r->elements; ++i) {
                v.elements.push_back(convert(r->element[i]));
            }
            break;
        default:
            v.type = RedisValue::Type::nil;
    }
    return v;
}

struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// argv as the two arrays hiredis wants; views stay valid while `args` lives.
struct ArgvView {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    template <typename Range>
    explicit ArgvView(const Range& args) {
        for (const auto& a : args) {
            ptrs.push_back(a.data());
            lens.push_back(a.size());
        }
    }
};

}  // namespace

const RedisValue& RedisValue::expect_ok(std::string_view context) const {
    if (is_error()) {
        throw RedisError(fmt::format("{}: {}", context, str));
    }
    return *this;
}

void RedisConnection::ContextDeleter::operator()(redisContext* c) const {
    redisFree(c);
}

RedisConnection::RedisConnection(RedisOptions options) : options_(std::move(options)) {}
RedisConnection::~RedisConnection() = default;
RedisConnection::RedisConnection(RedisConnection&&) noexcept = default;
RedisConnection& RedisConnection::operator=(RedisConnection&&) noexcept = default;

bool RedisConnection::connected() const {
    return ctx_ != nullptr;
}

void RedisConnection::disconnect() {
    ctx_.reset();
    backoff_ = std::chrono::milliseconds(0);
    next_attempt_ = {};
}

void RedisConnection::mark_broken(const std::string& why) {
    ctx_.reset();
    backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, options_.max_backoff);
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    throw RedisError(why);
}

void RedisConnection::ensure_connected() {
    if (ctx_) {
        return;
    }
    if (std::chrono::steady_clock::now() < next_attempt_) {
        throw RedisError(fmt::format("Redis at {} is unreachable (next attempt in {} ms)",
                                     options_.endpoint.redacted(),
                                     std::chrono::duration_cast<std::chrono::milliseconds>(
                                         next_attempt_ - std::chrono::steady_clock::now())
                                         .count()));
    }
    connect();
}

namespace {

// Opens a raw context to host:port or a unix socket with the configured timeouts
// (hiredis 0.14: connect timeout at connect, command timeout via redisSetTimeout).
redisContext* open_context(const RedisOptions& o, const std::string& host, int port,
                           const std::string& path) {
    const timeval connect_tv = to_timeval(o.connect_timeout);
    redisContext* c = path.empty() ? redisConnectWithTimeout(host.c_str(), port, connect_tv)
                                   : redisConnectUnixWithTimeout(path.c_str(), connect_tv);
    if (c != nullptr && c->err == 0) {
        redisSetTimeout(c, to_timeval(o.command_timeout));
    }
    return c;
}

}  // namespace

void RedisConnection::connect() {
    const RedisEndpoint& ep = options_.endpoint;
    std::string host = ep.host;
    int port = ep.port;
    if (ep.kind == RedisEndpoint::Kind::sentinel) {
        // Ask each sentinel in turn for the current master's address.
        std::string last_error = "no sentinel configured";
        bool found = false;
        for (const auto& [s_host, s_port] : ep.sentinels) {
            std::unique_ptr<redisContext, ContextDeleter> s(
                open_context(options_, s_host, s_port, ""));
            if (!s || s->err) {
                last_error = s ? s->errstr : "out of memory";
                continue;
            }
            ReplyPtr r(static_cast<redisReply*>(
                redisCommand(s.get(), "SENTINEL get-master-addr-by-name %b", ep.master_name.data(),
                             ep.master_name.size())));
            if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
                host.assign(r->element[0]->str, r->element[0]->len);
                port = std::atoi(r->element[1]->str);
                found = true;
                break;
            }
            last_error = "sentinel does not know master '" + ep.master_name + "'";
        }
        if (!found) {
            mark_broken(fmt::format("Redis sentinel lookup failed: {}", last_error));
        }
    }
    std::unique_ptr<redisContext, ContextDeleter> ctx(open_context(
        options_, host, port, ep.kind == RedisEndpoint::Kind::unix_socket ? ep.path : ""));
    if (!ctx) {
        mark_broken("cannot allocate a Redis context");
    }
    if (ctx->err) {
        mark_broken(fmt::format("cannot connect to Redis at {}: {}", ep.redacted(), ctx->errstr));
    }
    ctx_ = std::move(ctx);
    try {
        if (!ep.password.empty()) {
            RedisValue r = ep.username.empty() ? command({"AUTH", ep.password})
                                               : command({"AUTH", ep.username, ep.password});
            if (r.is_error()) {
                ctx_.reset();
                mark_broken(fmt::format("Redis at {} refused AUTH: {}", ep.redacted(), r.str));
            }
        }
        if (ep.db != 0) {
            RedisValue r = command({"SELECT", std::to_string(ep.db)});
            if (r.is_error()) {
                ctx_.reset();
                mark_broken(
                    fmt::format("Redis at {} refused SELECT {}: {}", ep.redacted(), ep.db, r.str));
            }
        }
    } catch (const RedisError&) {
        ctx_.reset();
        throw;
    }
    backoff_ = std::chrono::milliseconds(0);
}

RedisValue RedisConnection::read_or_throw(void* reply, std::string_view what) {
    ReplyPtr r(static_cast<redisReply*>(reply));
    if (!r) {
        mark_broken(fmt::format("Redis {} failed: {}", what, ctx_ ? ctx_->errstr : "no context"));
    }
    return convert(r.get());
}

RedisValue RedisConnection::command(const std::vector<std::string>& argv) {
    ensure_connected();
    ArgvView v(argv);
    return read_or_throw(
        redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), v.ptrs.data(), v.lens.data()),
        argv.empty() ? "command" : argv.front());
}

RedisValue RedisConnection::command(std::initializer_list<std::string_view> argv) {
    ensure_connected();
    ArgvView v(argv);
    return read_or_throw(
        redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), v.ptrs.data(), v.lens.data()),
        argv.size() == 0 ? "command" : *argv.begin());
}

std::vector<RedisValue> RedisConnection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
    ensure_connected();
    for (const auto& argv : commands) {
        ArgvView v(argv);
        if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), v.ptrs.data(),
                                   v.lens.data()) != REDIS_OK) {
            mark_broken("Redis pipeline: out of memory");
        }
    }
    std::vector<RedisValue> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
        void* reply = nullptr;
        if (redisGetReply(ctx_.get(), &reply) != REDIS_OK) {
            mark_broken(fmt::format("Redis pipeline failed: {}", ctx_->errstr));
        }
        replies.push_back(read_or_throw(reply, "pipeline"));
    }
    return replies;
}

RedisValue RedisConnection::command_with_timeout(const std::vector<std::string>& argv,
                                                 std::chrono::milliseconds timeout) {
    ensure_connected();
    redisSetTimeout(ctx_.get(), to_timeval(timeout));
    RedisValue v = command(argv);
    if (ctx_) {
        redisSetTimeout(ctx_.get(), to_timeval(options_.command_timeout));
    }
    return v;
}

RedisPool::RedisPool(RedisOptions options, std::size_t size) : options_(std::move(options)) {
    for (std::size_t i = 0; i < size; ++i) {
        idle_.push_back(std::make_unique<RedisConnection>(options_));
    }
}

RedisPool::Lease::~Lease() {
    if (conn_) {
        pool_->release(std::move(conn_));
    }
}

RedisPool::Lease RedisPool::acquire() {
    std::unique_lock lock(mutex_);
    const auto wait = options_.connect_timeout + options_.command_timeout * 2;
    if (!available_.wait_for(lock, wait, [this] { return !idle_.empty(); })) {
        throw RedisError("Redis connection pool exhausted");
    }
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(conn));
}

void RedisPool::release(std::unique_ptr<RedisConnection> conn) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(conn));
    }
    available_.notify_one();
}

}  // namespace tka
