// The listening socket, the event loop and shutdown of tokend (see server.hpp).
#include "tokend/server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
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

// The admin workers: two threads, so that two slow sign-ins (scrypt) do not stall every
// other dashboard request, and a short queue (a person clicks; nobody queues hundreds).
RedisWorkers::Options admin_worker_options(const Config& config) {
    RedisWorkers::Options o;
    o.redis = redis_options(config);
    o.threads = 2;
    o.queue_max = 64;
    return o;
}

admin::AdminOptions admin_options(const Config& config, Api& api) {
    admin::AdminOptions o;
    o.tls = config.tls();
    o.timeouts.idle = std::chrono::seconds(config.admin_session_idle_seconds);
    o.timeouts.absolute = std::chrono::seconds(config.admin_session_max_seconds);
    o.fence = api.fence_observer();
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
      admin_limits_(config.limits),
      ioc_(config.io_threads),
      main_(ioc_) {
    context_.proxy = &config_.throttle.proxy;
    main_.context = &context_;
    if (config_.admin()) {
        admin_limits_.max_body_bytes =
            std::min(admin_limits_.max_body_bytes, admin::kMaxAdminBodyBytes);
        admin::AdminOptions options = admin_options(config_, api_);
        options.usage = [this] { return usage_.usage(); };
        admin_ = std::make_unique<admin::AdminHandler>(std::move(options), log_);
        admin_workers_ = std::make_unique<RedisWorkers>(admin_worker_options(config_));
        admin_context_ = std::unique_ptr<SessionContext>(
            new SessionContext{admin_limits_, api_, *admin_workers_, health_, metrics_, log_});
        admin_context_->proxy = &config_.throttle.proxy;
        admin_context_->admin = admin_.get();
        admin_listener_ = std::make_unique<Listener>(ioc_);
        admin_listener_->context = admin_context_.get();
        usage_timer_ = std::make_unique<net::steady_timer>(ioc_);
    }
}

Server::~Server() {
    stop();
}

int Server::bind() {
    port_ = bind(main_, config_.listen_host, config_.listen_port);
    if (admin_listener_) {
        admin_port_ = bind(*admin_listener_, config_.admin_listen_host, config_.admin_listen_port);
    }
    return port_;
}

int Server::bind(Listener& listener, const std::string& host, int port) {
    const std::string where = host + ":" + std::to_string(port);
    tcp::endpoint endpoint(listen_address(host), static_cast<unsigned short>(port));
    tcp::acceptor& acceptor = listener.acceptor;
    error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        // SO_REUSEADDR only lets a restarted tokend bind while old connections linger in
        // TIME_WAIT; a port another process listens on still fails (no SO_REUSEPORT).
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        error_code ignored;
        acceptor.close(ignored);
        throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
    }
    return acceptor.local_endpoint().port();
}

void Server::accept(Listener& listener) {
    listener.acceptor.async_accept(net::make_strand(ioc_),
                                   [this, &listener](error_code ec, tcp::socket socket) {
                                       on_accept(listener, ec, std::move(socket));
                                   });
}

void Server::on_accept(Listener& listener, const error_code& ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !listener.acceptor.is_open()) {
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
        listener.retry.expires_after(kAcceptRetry);
        listener.retry.async_wait([this, &listener](error_code wait_ec) {
            if (!wait_ec) {
                accept(listener);
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
                start_session(std::move(socket), std::move(slot), *listener.context,
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
    accept(listener);
}

void Server::sample_usage() {
    usage_.sample(metrics_.snapshot(), std::chrono::steady_clock::now());
    usage_timer_->expires_after(usage_.interval());
    usage_timer_->async_wait([this](error_code ec) {
        if (!ec) {
            sample_usage();
        }
    });
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
    accept(main_);
    if (admin_listener_) {
        accept(*admin_listener_);
        sample_usage();
    }
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
    main_.acceptor.close(ignored);
    if (admin_listener_) {
        admin_listener_->acceptor.close(ignored);
    }
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
                main_.acceptor.close(ignored);
                main_.retry.cancel();
                if (admin_listener_) {
                    admin_listener_->acceptor.close(ignored);
                    admin_listener_->retry.cancel();
                    usage_timer_->cancel();
                }
            });
            context_.stopping = true;
            if (admin_context_) {
                admin_context_->stopping = true;
            }
            lock.unlock();
            // Requests in progress finish (their Redis work and their answer), bounded.
            const auto deadline = std::chrono::steady_clock::now() + kDrainOnStop;
            auto in_flight = [this] {
                return context_.in_flight.load() +
                       (admin_context_ ? admin_context_->in_flight.load() : 0);
            };
            while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
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
    if (admin_workers_) {
        admin_workers_->stop();
    }
    health_.stop();
}

}  // namespace tka::tokend
