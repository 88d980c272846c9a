// The HTTP(S) transport of tokend: an httplib::Server (or SSLServer with --tls-cert/key)
// with a worker pool of --threads threads and a tka::RedisPool of the same size, wired to
// tka::tokend::Api. It owns what httplib must be told: the 64 KiB body limit (bodies are
// read through a bounded reader, chunked ones too), read/write timeouts, JSON bodies for
// httplib's own errors (400, 413, 500), the access log and request metrics.
//
// Lifetime: construct, bind() (throws on failure, returns the port), listen() blocks until
// stop() is called from any thread (also before listen() starts: it then returns at once).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "common/redis.hpp"
#include "tokend/api.hpp"
#include "tokend/config.hpp"
#include "tokend/metrics.hpp"
#include "tokend/rate_limiter.hpp"
#include "tokend/request_log.hpp"

namespace httplib {
class Server;
}

namespace tka::tokend {

class Server {
  public:
    explicit Server(const Config& config);  // throws std::runtime_error (bad TLS files)
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds the listening socket; returns the port (the chosen one when --listen said 0).
    // Throws std::runtime_error when the address cannot be bound.
    int bind();
    // Serves until stop(); returns false if the server failed rather than being stopped.
    bool listen();
    // Thread-safe, idempotent; waits until listen() has returned if it is running.
    void stop();

    int port() const { return port_; }
    Metrics& metrics() { return metrics_; }
    RequestLog& log() { return log_; }

  private:
    void install_handlers();

    Config config_;
    Metrics metrics_;
    RateLimiter limiter_;
    RequestLog log_;
    RedisPool redis_;
    Api api_;
    std::unique_ptr<httplib::Server> http_;
    int port_ = 0;

    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool stop_requested_ = false;
    bool listen_started_ = false;
    bool listen_done_ = false;
};

// RedisOptions for tokend's pool from its config (timeouts from --redis-timeout-ms).
RedisOptions redis_options(const Config& config);

}  // namespace tka::tokend
