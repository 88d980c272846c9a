// tokend's HTTP(S) server: the listening socket, the event loop (--io-threads threads of
// one Boost.Asio io_context), the connection limits, and the pieces every connection
// shares (tokend/http_session.hpp): the API, the Redis workers (--threads, --queue-max),
// the /healthz probe, metrics and the access log. TLS through asio::ssl (OpenSSL) with
// --tls-cert/--tls-key.
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
#include "tokend/api.hpp"
#include "tokend/config.hpp"
#include "tokend/connection_limits.hpp"
#include "tokend/health_probe.hpp"
#include "tokend/http_session.hpp"
#include "tokend/metrics.hpp"
#include "tokend/rate_limiter.hpp"
#include "tokend/redis_workers.hpp"
#include "tokend/request_log.hpp"

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
    Metrics& metrics() { return metrics_; }
    RequestLog& log() { return log_; }

  private:
    void accept();
    void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);

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
    std::atomic<int> refusing_{0};
    std::chrono::steady_clock::time_point last_accept_error_log_{};
    int port_ = 0;

    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool stop_requested_ = false;
    bool listen_started_ = false;
    bool listen_done_ = false;
    bool listen_failed_ = false;

    // Declared last, destroyed first: the loop and every session still queued on it go
    // before the parts they refer to.
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer accept_retry_;
};

// RedisOptions for tokend's Redis connections from its config (--redis-timeout-ms).
RedisOptions redis_options(const Config& config);

}  // namespace tka::tokend
