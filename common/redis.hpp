// A RAII connection to Redis, and the value type its replies are copied into. hiredis
// (0.14) encodes the commands and parses the replies; the bytes travel over our own
// transport (redis_transport.hpp): TCP, a unix socket, or TLS for rediss:// URLs, every
// wait bounded by poll() and the configured timeouts.
//
// Failure model (kept apart, as hiredis itself does):
//  - a broken context (I/O error, timeout, protocol error, refused connection) throws
//    RedisError and marks the connection broken; the next command reconnects, but not
//    before a backoff delay has passed (100 ms doubling to `max_backoff`), so a dead Redis
//    costs callers one fast exception instead of a connect timeout on every call;
//  - an error reply ("-ERR ...", "-NOSCRIPT ...") is an ordinary RedisValue of type error:
//    the connection stays usable and the caller decides what it means.
// Every command is encoded with redisFormatCommandArgv: binary safe, no format strings.
// With Sentinel, the master is looked up on each (re)connect: each sentinel in turn, until
// one names an address that answers ROLE with "master" (redis_sentinel.hpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/errors.hpp"
#include "common/redis_tls_options.hpp"
#include "common/redis_url.hpp"

namespace tka {

class TlsContext;

struct RedisOptions {
    RedisEndpoint endpoint;
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{500};
    std::chrono::milliseconds max_backoff{2000};
    RedisTlsOptions tls;  // used when endpoint.tls (rediss://, rediss+sentinel://)
    // Durability of writes (common/replica_wait.hpp): after each write the stores ask Redis
    // to WAIT until this many replicas hold it (0: no wait), for at most wait_timeout.
    int wait_replicas = 0;
    std::chrono::milliseconds wait_timeout{1000};
};

// A reply, copied out of hiredis so it has no lifetime ties to the connection.
struct RedisValue {
    enum class Type { nil, integer, string, status, error, array };
    Type type = Type::nil;
    long long integer = 0;
    std::string str;                   // string, status, error
    std::vector<RedisValue> elements;  // array

    bool is_nil() const { return type == Type::nil; }
    bool is_error() const { return type == Type::error; }
    bool is_array() const { return type == Type::array; }
    // Throws RedisError("<context>: <message>") when this is an error reply.
    const RedisValue& expect_ok(std::string_view context) const;
};

class RedisConnection {
  public:
    explicit RedisConnection(RedisOptions options);
    ~RedisConnection();
    RedisConnection(RedisConnection&&) noexcept;
    RedisConnection& operator=(RedisConnection&&) noexcept;
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Runs one command. Connects (or reconnects, after backoff) first when needed.
    // Throws RedisError when the connection is or becomes broken.
    RedisValue command(const std::vector<std::string>& argv);
    RedisValue command(std::initializer_list<std::string_view> argv);

    // Sends all commands, then reads all replies: one round trip.
    std::vector<RedisValue> pipeline(const std::vector<std::vector<std::string>>& commands);

    // Connects now if not connected; throws RedisError on failure.
    void ensure_connected();
    bool connected() const;
    // Drops the socket; the next command reconnects immediately (no backoff).
    void disconnect();

    // Blocking read timeout for one call (XREAD BLOCK ...); restores the default after.
    RedisValue command_with_timeout(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout);

    const RedisOptions& options() const { return options_; }

  private:
    class Link;  // one open connection: transport plus reply reader (redis.cpp)
    void connect();
    std::unique_ptr<Link> open_link(const std::string& host, int port, const std::string& path);
    void prepare(Link& link);
    std::unique_ptr<Link> lookup_master();
    [[noreturn]] void mark_broken(const std::string& why);
    RedisValue run(const std::vector<std::string_view>& argv, std::chrono::milliseconds timeout);

    RedisOptions options_;
    std::unique_ptr<Link> link_;
    std::shared_ptr<const TlsContext> tls_;  // built at the first TLS connect, then kept
    std::chrono::steady_clock::time_point next_attempt_{};
    std::chrono::milliseconds backoff_{0};
};

// A fixed-size pool of connections for multi-threaded servers (tokend): one connection per
// worker thread, leased for the duration of one request.
class RedisPool {
  public:
    RedisPool(RedisOptions options, std::size_t size);

    class Lease {
      public:
        Lease(RedisPool& pool, std::unique_ptr<RedisConnection> conn)
            : pool_(&pool), conn_(std::move(conn)) {}
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) noexcept = delete;
        ~Lease();
        RedisConnection& operator*() { return *conn_; }
        RedisConnection* operator->() { return conn_.get(); }

      private:
        RedisPool* pool_;
        std::unique_ptr<RedisConnection> conn_;
    };

    // Blocks until a connection is free (never longer than the pool's command timeout
    // plus a margin; then throws RedisError("pool exhausted")).
    Lease acquire();

  private:
    friend class Lease;
    void release(std::unique_ptr<RedisConnection> conn);

    RedisOptions options_;
    std::mutex mutex_;
    std::condition_variable_any available_;
    std::vector<std::unique_ptr<RedisConnection>> idle_;
};

}  // namespace tka
