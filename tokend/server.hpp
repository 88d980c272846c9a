// tokend's HTTP(S) server: the listening socket, the event loop (--io-threads threads of
// one Boost.Asio io_context), the connection limits, and the pieces every connection
// shares (tokend/http_session.hpp): the API, the Redis workers (--threads, --queue-max),
// the /healthz probe, metrics and the access log. TLS through asio::ssl (OpenSSL) with
// --tls-cert/--tls-key.
//
// With --admin-listen, a second listening socket serves the operator dashboard
// (tokend/admin_handler.hpp) through the same session machinery and limits (request bodies
// bounded to 16 KiB), TLS when the main listener has it, on two Redis workers of its own so
// that sign-ins (scrypt) and dashboard actions never queue behind, nor delay, the token
// endpoints. The main listener never answers a dashboard path. The dashboard's requests go
// to the access log but not into the token API's metrics.
//
// Lifetime: construct, bind() (throws on failure, returns the port), listen() blocks until
// stop() is called from any thread (also before listen() starts: it then returns at once).
// stop() closes the listening socket, lets the requests in progress finish (bounded), then
// ends the loop and the workers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/redis.hpp"
#include "tokend/admin_handler.hpp"
#include "tokend/api.hpp"
#include "tokend/config.hpp"
#include "tokend/connection_limits.hpp"
#include "tokend/health_probe.hpp"
#include "tokend/http_session.hpp"
#include "tokend/metrics.hpp"
#include "tokend/rate_limiter.hpp"
#include "tokend/redis_workers.hpp"
#include "tokend/request_log.hpp"
#include "tokend/usage_history.hpp"

namespace tka::tokend {

class Server {
  public:
    explicit Server(const Config& config);  // throws std::runtime_error (bad TLS files)
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds the listening socket; returns the port (the chosen one when --listen said 0).
    // Throws std::runtime_error naming the address and the reason when it cannot be bound
    // (a port in use is never shared: no SO_REUSEPORT).
    int bind();
    // Serves until stop(); returns false if the server failed rather than being stopped.
    bool listen();
    // Thread-safe, idempotent; waits until listen() has returned if it is running.
    void stop();

    int port() const { return port_; }
    // The admin listener's port after bind(); 0 without --admin-listen.
    int admin_port() const { return admin_port_; }
    Metrics& metrics() { return metrics_; }
    RequestLog& log() { return log_; }

  private:
    struct Listener;
    void accept(Listener& listener);
    void on_accept(Listener& listener, const boost::system::error_code& ec,
                   boost::asio::ip::tcp::socket socket);
    int bind(Listener& listener, const std::string& host, int port);
    // Samples the counters for the dashboard's usage page, then again every interval.
    void sample_usage();

    Config config_;
    Metrics metrics_;
    RateLimiter limiter_;
    AuthThrottle throttle_;
    RequestLog log_;
    Api api_;
    RedisWorkers workers_;
    HealthProbe health_;
    ConnectionLimits connections_;
    std::optional<boost::asio::ssl::context> tls_;
    SessionContext context_;
    // The admin listener's parts (only with --admin-listen).
    UsageHistory usage_;
    HttpLimits admin_limits_;
    std::unique_ptr<admin::AdminHandler> admin_;
    std::unique_ptr<RedisWorkers> admin_workers_;
    std::unique_ptr<SessionContext> admin_context_;
    std::atomic<int> refusing_{0};
    std::chrono::steady_clock::time_point last_accept_error_log_{};
    int port_ = 0;
    int admin_port_ = 0;

    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool stop_requested_ = false;
    bool listen_started_ = false;
    bool listen_done_ = false;
    bool listen_failed_ = false;

    // Declared last, destroyed first: the loop and every session still queued on it go
    // before the parts they refer to.
    boost::asio::io_context ioc_;
    struct Listener {
        explicit Listener(boost::asio::io_context& ioc) : acceptor(ioc), retry(ioc) {}
        boost::asio::ip::tcp::acceptor acceptor;
        boost::asio::steady_timer retry;  // after an accept error
        SessionContext* context = nullptr;
    };
    Listener main_;
    std::unique_ptr<Listener> admin_listener_;
    std::unique_ptr<boost::asio::steady_timer> usage_timer_;
};

// RedisOptions for tokend's Redis connections from its config (--redis-timeout-ms).
RedisOptions redis_options(const Config& config);

}  // namespace tka::tokend
