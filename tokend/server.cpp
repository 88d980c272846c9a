// The listening socket, the event loop and shutdown of tokend (see server.hpp).
#include "tokend/server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tka::tokend {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// How long stop() lets requests in progress finish before it ends the loop.
constexpr std::chrono::seconds kDrainOnStop{15};
// After an accept error (out of file descriptors), the pause before accepting again.
constexpr std::chrono::milliseconds kAcceptRetry{50};

ApiOptions api_options(const Config& config, RequestLog& log) {
    ApiOptions o;
    o.provider = config.provider;
    o.log_line = [&log](const std::string& line) { log.write_line(line); };
    return o;
}

RedisWorkers::Options worker_options(const Config& config) {
    RedisWorkers::Options o;
    o.redis = redis_options(config);
    o.threads = static_cast<std::size_t>(config.threads);
    o.queue_max = static_cast<std::size_t>(config.queue_max);
    return o;
}

net::ssl::context tls_context(const Config& config) {
    net::ssl::context tls(net::ssl::context::tls_server);
    tls.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                    net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    // An idle TLS connection gives its record buffers back.
    SSL_CTX_set_mode(tls.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    try {
        tls.use_certificate_chain_file(config.tls_cert);
        tls.use_private_key_file(config.tls_key, net::ssl::context::pem);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(
            "cannot load the TLS certificate or key (--tls-cert, --tls-key): " +
            std::string(e.what()));
    }
    return tls;
}

net::ip::address listen_address(const std::string& host) {
    error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (!ec) {
        return address;
    }
    net::io_context resolver_context;
    tcp::resolver resolver(resolver_context);
    auto results = resolver.resolve(host, "", ec);
    if (ec || results.empty()) {
        throw std::runtime_error("cannot listen on " + host + ": cannot resolve the host");
    }
    return results.begin()->endpoint().address();
}

}  // namespace

RedisOptions redis_options(const Config& config) {
    RedisOptions o;
    o.endpoint = config.redis;
    o.tls = config.redis_tls;
    o.connect_timeout = std::chrono::milliseconds(config.redis_timeout_ms);
    o.command_timeout = std::chrono::milliseconds(config.redis_timeout_ms);
    o.max_backoff = std::chrono::milliseconds(1000);
    o.wait_replicas = config.redis_wait_replicas;
    o.wait_timeout = std::chrono::milliseconds(config.redis_wait_ms);
    return o;
}

Server::Server(const Config& config)
    : config_(config),
      limiter_(config.rate_limit, config.effective_burst()),
      throttle_(config.throttle),
      api_(api_options(config, log_), metrics_, limiter_, throttle_),
      workers_(worker_options(config)),
      health_(redis_options(config),
              [this](RedisConnection& redis) { return api_.healthz(redis); }),
      connections_(config.limits.max_connections, config.limits.max_connections_per_address),
      tls_(config.tls() ? std::optional<net::ssl::context>(tls_context(config)) : std::nullopt),
      context_{config_.limits, api_, workers_, health_, metrics_, log_},
      ioc_(config.io_threads),
      acceptor_(ioc_),
      accept_retry_(ioc_) {
    context_.proxy = &config_.throttle.proxy;
}

Server::~Server() {
    stop();
}

int Server::bind() {
    const std::string where = config_.listen_host + ":" + std::to_string(config_.listen_port);
    tcp::endpoint endpoint(listen_address(config_.listen_host),
                           static_cast<unsigned short>(config_.listen_port));
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
        // SO_REUSEADDR only lets a restarted tokend bind while old connections linger in
        // TIME_WAIT; a port another process listens on still fails (no SO_REUSEPORT).
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor_.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        error_code ignored;
        acceptor_.close(ignored);
        throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    return port_;
}

void Server::accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
        on_accept(ec, std::move(socket));
    });
}

void Server::on_accept(const error_code& ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
        return;  // stopping
    }
    if (ec) {
        // Out of file descriptors (or another transient failure): pause instead of
        // spinning, and say so at most once a minute.
        const auto now = std::chrono::steady_clock::now();
        if (now - last_accept_error_log_ > std::chrono::minutes(1)) {
            last_accept_error_log_ = now;
            nlohmann::ordered_json line;
            line["ts"] = format_log_time(std::chrono::system_clock::now());
            line["level"] = "warning";
            line["event"] = "accept_failed";
            line["error"] = ec.message();
            log_.write_line(line.dump());
        }
        accept_retry_.expires_after(kAcceptRetry);
        accept_retry_.async_wait([this](error_code wait_ec) {
            if (!wait_ec) {
                accept();
            }
        });
        return;
    }
    error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    if (!peer_ec) {
        ConnectionLimits::Slot slot;
        const bool proxy =
            config_.throttle.proxy.enabled() &&
            config_.throttle.proxy.trusted_proxies.contains(peer.address().to_string());
        switch (connections_.try_open(peer.address(), slot, !proxy)) {
            case ConnectionLimits::Refusal::none:
                start_session(std::move(socket), std::move(slot), context_,
                              tls_ ? &*tls_ : nullptr);
                break;
            case ConnectionLimits::Refusal::max_connections:
                metrics_.connection_refused("max_connections");
                refuse_connection(std::move(socket), tls_.has_value(), refusing_);
                break;
            case ConnectionLimits::Refusal::per_address:
                metrics_.connection_refused("per_address");
                refuse_connection(std::move(socket), tls_.has_value(), refusing_);
                break;
        }
    }
    accept();
}

bool Server::listen() {
    {
        std::lock_guard lock(mutex_);
        listen_started_ = true;
        if (stop_requested_) {
            listen_done_ = true;
            done_cv_.notify_all();
            return true;
        }
    }
    accept();
    auto run = [this] {
        for (;;) {
            try {
                ioc_.run();
                return;
            } catch (const std::exception& e) {
                // A handler threw (out of memory, a bug): log it and keep serving.
                nlohmann::ordered_json line;
                line["ts"] = format_log_time(std::chrono::system_clock::now());
                line["level"] = "error";
                line["event"] = "event_loop_exception";
                line["error"] = e.what();
                log_.write_line(line.dump());
            }
        }
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < config_.io_threads; ++i) {
        threads.emplace_back(run);
    }
    run();
    for (auto& t : threads) {
        t.join();
    }
    // The loop has ended (the close posted by stop() may not have run): stop listening
    // before stop() returns.
    error_code ignored;
    acceptor_.close(ignored);
    std::lock_guard lock(mutex_);
    listen_done_ = true;
    done_cv_.notify_all();
    return !listen_failed_;
}

void Server::stop() {
    std::unique_lock lock(mutex_);
    if (!stop_requested_) {
        stop_requested_ = true;
        if (listen_started_ && !listen_done_) {
            net::post(ioc_, [this] {
                error_code ignored;
                acceptor_.close(ignored);
                accept_retry_.cancel();
            });
            context_.stopping = true;
            lock.unlock();
            // Requests in progress finish (their Redis work and their answer), bounded.
            const auto deadline = std::chrono::steady_clock::now() + kDrainOnStop;
            while (context_.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            ioc_.stop();
            lock.lock();
        }
    }
    if (listen_started_) {
        done_cv_.wait(lock, [this] { return listen_done_; });
    }
    lock.unlock();
    workers_.stop();
    health_.stop();
}

}  // namespace tka::tokend
