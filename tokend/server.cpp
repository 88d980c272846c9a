// httplib wiring for tokend (see server.hpp).
#include "tokend/server.hpp"

#include <httplib.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "tokend/responses.hpp"

namespace tka::tokend {

namespace {

using Clock = std::chrono::steady_clock;

// What one request learned on its way through httplib's callbacks, for the logger
// callback at the end. httplib runs a request start to finish on one worker thread, so
// a thread_local carries it from the pre-routing handler to the logger.
struct RequestContext {
    bool started = false;  // false: httplib rejected the request line before routing
    Clock::time_point start;
    std::string error;
    std::string org_id;
    std::string token_id;
    std::string detail;
    bool deferred = false;  // answer from the error handler once httplib drained the body
};

thread_local RequestContext t_context;

bool is_post_route(const std::string& path) {
    return path == "/v2/tokens/create" || path == "/v2/tokens/refresh" ||
           path == "/v2/tokens/revoke";
}

bool is_chunked(const httplib::Request& req) {
    return req.has_header("Transfer-Encoding");
}

bool has_sized_body(const httplib::Request& req) {
    return !is_chunked(req) && req.get_header_value<uint64_t>("Content-Length") > 0;
}

void apply(const ApiResponse& from, httplib::Response& to) {
    to.status = from.status;
    for (const auto& [name, value] : from.headers) {
        to.set_header(name, value);
    }
    to.set_content(from.body, from.content_type.c_str());
    t_context.error = from.error;
    t_context.org_id = from.org_id;
    t_context.token_id = from.token_id;
    t_context.detail = from.detail;
}

ApiRequest to_api_request(const httplib::Request& req) {
    ApiRequest r;
    r.method = req.method;
    r.path = req.path;
    r.content_type = req.get_header_value("Content-Type");
    r.remote = req.remote_addr;
    return r;
}

}  // namespace

RedisOptions redis_options(const Config& config) {
    RedisOptions o;
    o.endpoint = config.redis;
    o.connect_timeout = std::chrono::milliseconds(config.redis_timeout_ms);
    o.command_timeout = std::chrono::milliseconds(config.redis_timeout_ms);
    o.max_backoff = std::chrono::milliseconds(1000);
    return o;
}

namespace {

ApiOptions api_options(const Config& config, RequestLog& log) {
    ApiOptions o;
    o.provider = config.provider;
    o.log_line = [&log](const std::string& line) { log.write_line(line); };
    return o;
}

}  // namespace

Server::Server(const Config& config)
    : config_(config),
      limiter_(config.rate_limit, config.effective_burst()),
      redis_(redis_options(config), static_cast<std::size_t>(config.threads)),
      api_(api_options(config, log_), redis_, metrics_, limiter_) {
    if (config_.tls()) {
        auto tls =
            std::make_unique<httplib::SSLServer>(config_.tls_cert.c_str(), config_.tls_key.c_str());
        if (!tls->is_valid()) {
            throw std::runtime_error("cannot load the TLS certificate or key (--tls-cert, " +
                                     std::string("--tls-key)"));
        }
        http_ = std::move(tls);
    } else {
        http_ = std::make_unique<httplib::Server>();
    }
    install_handlers();
}

Server::~Server() {
    stop();
}

void Server::install_handlers() {
    httplib::Server& s = *http_;
    const std::size_t threads = static_cast<std::size_t>(config_.threads);
    s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    s.set_payload_max_length(kMaxBodyBytes);
    s.set_read_timeout(10, 0);
    s.set_write_timeout(10, 0);
    s.set_keep_alive_max_count(100);
    s.set_keep_alive_timeout(5);
    // httplib writes the head and the body separately; with Nagle on, the body waits for
    // the client's delayed ACK (~40 ms per keep-alive request). Accepted sockets inherit
    // TCP_NODELAY from the listening socket.
    s.set_tcp_nodelay(true);

    // Every request passes here first, before httplib reads a body.
    //  - A POST to a token endpoint goes on to the bounded-reader handlers below.
    //  - Any other request with a Content-Length body goes on too, so httplib consumes the
    //    body (at most 64 KiB, else 413) before we answer from the error handler: an
    //    unread body would otherwise be parsed as the next request on a kept-alive
    //    connection, which a proxy in front could be tricked into (request smuggling).
    //  - Everything else is answered right here. A chunked body we do not want is left
    //    unread: httplib's next parse fails on the chunk-size line and closes the
    //    connection, and Connection: close tells the client so.
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        t_context = RequestContext{};
        t_context.started = true;
        t_context.start = Clock::now();
        if (req.method == "POST" && is_post_route(req.path)) {
            return httplib::Server::HandlerResponse::Unhandled;
        }
        if (has_sized_body(req)) {
            t_context.deferred = true;
            return httplib::Server::HandlerResponse::Unhandled;
        }
        apply(api_.handle(to_api_request(req)), res);
        if (is_chunked(req)) {
            res.set_header("Connection", "close");
        }
        return httplib::Server::HandlerResponse::Handled;
    });

    auto post = [this](const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& reader) {
        ApiRequest request = to_api_request(req);
        bool too_large = false;
        bool complete = false;
        if (req.is_multipart_form_data()) {
            // Not JSON (415 below), but consumed all the same; httplib insists on
            // multipart callbacks for such bodies.
            std::size_t total = 0;
            complete = reader([](const httplib::MultipartFormData&) { return true; },
                              [&](const char*, std::size_t length) {
                                  total += length;
                                  too_large = total > kMaxBodyBytes;
                                  return !too_large;
                              });
        } else {
            complete = reader([&](const char* data, std::size_t length) {
                if (request.body.size() + length > kMaxBodyBytes) {
                    too_large = true;
                    return false;
                }
                request.body.append(data, length);
                return true;
            });
        }
        if (!complete) {
            // httplib sets 413 itself for an oversized Content-Length (and skips the
            // body); our reader stops chunked bodies. Anything else is a broken upload.
            too_large = too_large || res.status == 413;
            if (!too_large) {
                ApiResponse bad;
                bad.status = 400;
                bad.error = "invalid_request";
                bad.body = error_body({400, "invalid_request", "the request body is incomplete"});
                apply(bad, res);
                res.set_header("Connection", "close");
                return;
            }
            request.body_too_large = true;
            res.set_header("Connection", "close");
        }
        apply(api_.handle(request), res);
    };
    for (const char* path : {"/v2/tokens/create", "/v2/tokens/refresh", "/v2/tokens/revoke"}) {
        s.Post(path, post);
    }

    // httplib's own errors (malformed request line, 413 before a handler) get the same
    // JSON error body as ours; deferred requests (see above) get their real answer here.
    s.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) {
                return httplib::Server::HandlerResponse::Unhandled;  // already ours
            }
            if (t_context.deferred && res.status != 413) {
                t_context.deferred = false;
                ApiRequest request = to_api_request(req);
                request.body = req.body;
                apply(api_.handle(request), res);
                return httplib::Server::HandlerResponse::Handled;
            }
            ApiError error = error_for_status(res.status);
            res.set_content(error_body(error), "application/json");
            if (t_context.error.empty()) {
                t_context.error = error.code;
            }
            return httplib::Server::HandlerResponse::Handled;
        }));

    s.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown exception";
            try {
                if (ep) {
                    std::rethrow_exception(ep);
                }
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            ApiError error = error_for_status(500);
            res.status = 500;
            res.set_content(error_body(error), "application/json");
            t_context.error = error.code;
            t_context.detail = what;
        });

    // Called once per response, whatever produced it.
    s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        double seconds = t_context.started
                             ? std::chrono::duration<double>(Clock::now() - t_context.start).count()
                             : 0.0;
        metrics_.observe_request(route_label(req.path), res.status, seconds);
        LogEntry entry;
        entry.method = req.method;
        entry.path = req.path;
        entry.status = res.status;
        entry.duration_ms = seconds * 1000;
        entry.remote = req.remote_addr;
        entry.org_id = t_context.org_id;
        entry.token_id = t_context.token_id;
        entry.error = res.status >= 400 ? t_context.error : std::string();
        entry.detail = t_context.detail;
        log_.write(entry);
        t_context = RequestContext{};
    });
}

int Server::bind() {
    int port = 0;
    if (config_.listen_port == 0) {
        port = http_->bind_to_any_port(config_.listen_host);
    } else if (http_->bind_to_port(config_.listen_host, config_.listen_port)) {
        port = config_.listen_port;
    }
    if (port <= 0) {
        throw std::runtime_error("cannot listen on " + config_.listen_host + ":" +
                                 std::to_string(config_.listen_port));
    }
    port_ = port;
    return port;
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
    bool ok = http_->listen_after_bind();
    std::lock_guard lock(mutex_);
    listen_done_ = true;
    done_cv_.notify_all();
    return ok || stop_requested_;
}

void Server::stop() {
    std::unique_lock lock(mutex_);
    if (stop_requested_ && (listen_done_ || !listen_started_)) {
        return;
    }
    bool first = !stop_requested_;
    stop_requested_ = true;
    if (!listen_started_) {
        return;  // listen() will see the flag and return at once
    }
    if (first) {
        // listen_after_bind may not have set is_running yet; httplib's stop() is a no-op
        // until it has, so wait for it (or for listen to end by itself).
        while (!listen_done_ && !http_->is_running()) {
            lock.unlock();
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            lock.lock();
        }
        if (!listen_done_) {
            http_->stop();
        }
    }
    done_cv_.wait(lock, [this] { return listen_done_; });
}

}  // namespace tka::tokend
