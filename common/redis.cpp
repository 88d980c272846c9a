// RedisConnection and RedisPool. hiredis does the protocol only: redisFormatCommandArgv
// encodes commands, a redisReader parses replies. The bytes go through a RedisTransport
// (plain socket or TLS), so every failure of the link surfaces here as a RedisError from
// the transport or the reader, which marks the connection broken (never reused); an error
// reply is data.
#include "common/redis.hpp"

#include <hiredis/hiredis.h>

#include <thread>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/redis_sentinel.hpp"
#include "common/redis_transport.hpp"
#include "common/socket_transport.hpp"
#include "common/tls_transport.hpp"

namespace tka {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFirstBackoff{100};
// Bytes written per deadline: a large pipeline gets a fresh timeout for each chunk, so
// the timeout bounds a stall, not the size of a batch (as hiredis's socket timeouts did).
constexpr std::size_t kWriteChunk = 64 * 1024;
constexpr std::size_t kReadBuffer = 16 * 1024;

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

struct ReaderDeleter {
    void operator()(redisReader* r) const { redisReaderFree(r); }
};

// Appends the RESP encoding of `argv` to `out` (binary safe).
template <typename Range>
void encode(const Range& argv, std::string& out) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
    }
    char* cmd = nullptr;
    const int len =
        redisFormatCommandArgv(&cmd, static_cast<int>(ptrs.size()), ptrs.data(), lens.data());
    if (len < 0 || cmd == nullptr) {
        throw RedisError("cannot encode a Redis command: out of memory");
    }
    out.append(cmd, static_cast<std::size_t>(len));
    redisFreeCommand(cmd);
}

std::string command_name(const std::vector<std::string_view>& argv) {
    return argv.empty() ? std::string("command") : std::string(argv.front());
}

std::vector<std::string_view> views(const std::vector<std::string>& argv) {
    return {argv.begin(), argv.end()};
}

}  // namespace

// A transport and the reader of the replies that come over it.
class RedisConnection::Link {
  public:
    explicit Link(std::unique_ptr<RedisTransport> transport)
        : transport_(std::move(transport)), reader_(redisReaderCreate()) {
        if (!reader_) {
            throw RedisError("cannot create a Redis reply reader: out of memory");
        }
    }

    void send(std::string_view bytes, std::chrono::milliseconds timeout) {
        while (!bytes.empty()) {
            const std::string_view chunk = bytes.substr(0, kWriteChunk);
            transport_->write_all(chunk, Clock::now() + timeout);
            bytes.remove_prefix(chunk.size());
        }
    }

    // The next reply; `timeout` bounds each wait for bytes.
    RedisValue receive(std::chrono::milliseconds timeout) {
        char buf[kReadBuffer];
        while (true) {
            void* reply = nullptr;
            if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
                throw RedisError(fmt::format("protocol error: {}", reader_->errstr));
            }
            if (reply != nullptr) {
                const ReplyPtr owned(static_cast<redisReply*>(reply));
                return convert(owned.get());
            }
            const std::size_t n = transport_->read_some(buf, sizeof buf, Clock::now() + timeout);
            if (redisReaderFeed(reader_.get(), buf, n) != REDIS_OK) {
                throw RedisError(fmt::format("protocol error: {}", reader_->errstr));
            }
        }
    }

    RedisValue command(const std::vector<std::string_view>& argv,
                       std::chrono::milliseconds timeout) {
        std::string bytes;
        encode(argv, bytes);
        send(bytes, timeout);
        return receive(timeout);
    }

  private:
    std::unique_ptr<RedisTransport> transport_;
    std::unique_ptr<redisReader, ReaderDeleter> reader_;
};

const RedisValue& RedisValue::expect_ok(std::string_view context) const {
    if (is_error()) {
        throw RedisError(fmt::format("{}: {}", context, str));
    }
    return *this;
}

RedisConnection::RedisConnection(RedisOptions options) : options_(std::move(options)) {}
RedisConnection::~RedisConnection() = default;
RedisConnection::RedisConnection(RedisConnection&&) noexcept = default;
RedisConnection& RedisConnection::operator=(RedisConnection&&) noexcept = default;

bool RedisConnection::connected() const {
    return link_ != nullptr;
}

void RedisConnection::disconnect() {
    link_.reset();
    backoff_ = std::chrono::milliseconds(0);
    next_attempt_ = {};
}

void RedisConnection::mark_broken(const std::string& why) {
    link_.reset();
    backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, options_.max_backoff);
    next_attempt_ = Clock::now() + backoff_;
    throw RedisError(why);
}

void RedisConnection::ensure_connected() {
    if (link_) {
        return;
    }
    if (Clock::now() < next_attempt_) {
        throw RedisError(fmt::format(
            "Redis at {} is unreachable (next attempt in {} ms)", options_.endpoint.redacted(),
            std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - Clock::now())
                .count()));
    }
    connect();
}

// A connected (and, for TLS, handshaken) link to host:port or to the unix socket `path`,
// within the connect timeout; RedisError with the reason alone otherwise.
std::unique_ptr<RedisConnection::Link> RedisConnection::open_link(const std::string& host, int port,
                                                                  const std::string& path) {
    const Deadline deadline = Clock::now() + options_.connect_timeout;
    if (!path.empty()) {
        return std::make_unique<Link>(
            std::make_unique<SocketTransport>(connect_unix(path, deadline), path));
    }
    if (options_.endpoint.tls && !tls_) {
        tls_ = std::make_shared<const TlsContext>(options_.tls);  // a bad file fails before any I/O
    }
    Fd fd = connect_tcp(host, port, deadline);
    std::string peer = host_port_text(host, port);
    if (!options_.endpoint.tls) {
        return std::make_unique<Link>(
            std::make_unique<SocketTransport>(std::move(fd), std::move(peer)));
    }
    return std::make_unique<Link>(
        std::make_unique<TlsTransport>(tls_, std::move(fd), host, std::move(peer), deadline));
}

// AUTH and SELECT as the URL asks; RedisError with a full sentence otherwise.
void RedisConnection::prepare(Link& link) {
    const RedisEndpoint& ep = options_.endpoint;
    const auto ask = [&](const std::vector<std::string_view>& argv) {
        try {
            return link.command(argv, options_.command_timeout);
        } catch (const RedisError& e) {
            throw RedisError(fmt::format("Redis {} failed: {}", command_name(argv), e.what()));
        }
    };
    if (!ep.password.empty()) {
        const RedisValue r = ep.username.empty() ? ask({"AUTH", ep.password})
                                                 : ask({"AUTH", ep.username, ep.password});
        if (r.is_error()) {
            throw RedisError(fmt::format("Redis at {} refused AUTH: {}", ep.redacted(), r.str));
        }
    }
    if (ep.db != 0) {
        const RedisValue r = ask({"SELECT", std::to_string(ep.db)});
        if (r.is_error()) {
            throw RedisError(
                fmt::format("Redis at {} refused SELECT {}: {}", ep.redacted(), ep.db, r.str));
        }
    }
}

// Asks each sentinel in turn for the master and returns a prepared link to the first
// address that confirms it is the master; RedisError with the last reason otherwise.
std::unique_ptr<RedisConnection::Link> RedisConnection::lookup_master() {
    const RedisEndpoint& ep = options_.endpoint;
    std::string last_error = "no sentinel configured";
    for (const auto& [s_host, s_port] : ep.sentinels) {
        const std::string sentinel = host_port_text(s_host, s_port);
        SentinelMaster master;
        try {
            auto s = open_link(s_host, s_port, "");
            auto parsed = parse_master_addr(
                s->command({"SENTINEL", "get-master-addr-by-name", ep.master_name},
                           options_.command_timeout),
                ep.master_name);
            if (const auto* why = std::get_if<std::string>(&parsed)) {
                last_error = fmt::format("sentinel {}: {}", sentinel, *why);
                continue;
            }
            master = std::get<SentinelMaster>(std::move(parsed));
        } catch (const RedisError& e) {
            last_error = fmt::format("sentinel {}: {}", sentinel, e.what());
            continue;
        }
        const std::string named = host_port_text(master.host, master.port);
        try {
            auto link = open_link(master.host, master.port, "");
            prepare(*link);
            const RedisValue reply = link->command({"ROLE"}, options_.command_timeout);
            const std::string role = parse_role(reply);
            if (role == "master") {
                return link;
            }
            last_error = reply.is_error()
                             ? fmt::format("sentinel {} named {} but ROLE failed there: {}",
                                           sentinel, named, reply.str)
                             : fmt::format("sentinel {} named {} but it reports role {}", sentinel,
                                           named, role.empty() ? "(unreadable)" : role);
        } catch (const RedisError& e) {
            last_error = fmt::format("sentinel {} named {}: {}", sentinel, named, e.what());
        }
    }
    mark_broken(fmt::format("Redis sentinel lookup failed: {}", last_error));
}

void RedisConnection::connect() {
    const RedisEndpoint& ep = options_.endpoint;
    std::unique_ptr<Link> link;
    if (ep.kind == RedisEndpoint::Kind::sentinel) {
        link = lookup_master();
    } else {
        try {
            link = open_link(ep.host, ep.port,
                             ep.kind == RedisEndpoint::Kind::unix_socket ? ep.path : "");
        } catch (const RedisError& e) {
            mark_broken(fmt::format("cannot connect to Redis at {}: {}", ep.redacted(), e.what()));
        }
        try {
            prepare(*link);
        } catch (const RedisError& e) {
            mark_broken(e.what());
        }
    }
    link_ = std::move(link);
    backoff_ = std::chrono::milliseconds(0);
}

RedisValue RedisConnection::run(const std::vector<std::string_view>& argv,
                                std::chrono::milliseconds timeout) {
    ensure_connected();
    try {
        return link_->command(argv, timeout);
    } catch (const RedisError& e) {
        mark_broken(fmt::format("Redis {} failed: {}", command_name(argv), e.what()));
    }
}

RedisValue RedisConnection::command(const std::vector<std::string>& argv) {
    return run(views(argv), options_.command_timeout);
}

RedisValue RedisConnection::command(std::initializer_list<std::string_view> argv) {
    return run(std::vector<std::string_view>(argv), options_.command_timeout);
}

std::vector<RedisValue> RedisConnection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
    ensure_connected();
    std::vector<RedisValue> replies;
    replies.reserve(commands.size());
    try {
        std::string bytes;
        for (const auto& argv : commands) {
            encode(argv, bytes);
        }
        link_->send(bytes, options_.command_timeout);
        for (size_t i = 0; i < commands.size(); ++i) {
            replies.push_back(link_->receive(options_.command_timeout));
        }
    } catch (const RedisError& e) {
        mark_broken(fmt::format("Redis pipeline failed: {}", e.what()));
    }
    return replies;
}

RedisValue RedisConnection::command_with_timeout(const std::vector<std::string>& argv,
                                                 std::chrono::milliseconds timeout) {
    return run(views(argv), timeout);
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
