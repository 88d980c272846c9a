// A connection of tokend's front door (see http_session.hpp). Session<Stream> is written
// once for beast::tcp_stream and for beast::ssl_stream<beast::tcp_stream>; the few steps
// that differ (handshake, closing) are overloads below.
//
// Deadlines are Beast's stream timeouts: when one passes, the stream closes the socket and
// the pending operation fails with beast::error::timeout, so a stalled client costs
// nothing more than its closed socket (it gets no 408: it is not reading, or it is too
// slow to finish a request; the access log records the 408).
#include "tokend/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <sstream>
#include <string>

#include "tokend/http_framing.hpp"
#include "tokend/responses.hpp"
#include "tokend/routes.hpp"

namespace tka::tokend {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

// After an answer that ends the connection, what the client still sends is read and
// dropped for this long (or up to kDrainBytes), so that closing does not reset the
// connection before the client has read the answer.
constexpr std::chrono::seconds kLinger{2};
constexpr std::size_t kDrainBytes = 1024 * 1024;
constexpr std::size_t kDrainChunk = 4096;
// Connections refused at accept that are lingering at once; beyond it they are closed
// without an answer.
constexpr int kMaxRefusedLingering = 256;

// The answer to a session that is over a limit, or whose Redis queue is full.
ApiResponse busy(std::string description) {
    ApiResponse r;
    r.status = 503;
    r.error = "temporarily_unavailable";
    r.body = error_body({503, r.error, std::move(description)});
    r.headers.emplace_back("Retry-After", "1");
    return r;
}

bool is_disconnect(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe ||
           ec == net::error::operation_aborted || ec == net::error::bad_descriptor ||
           ec == net::ssl::error::stream_truncated;
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  public:
    Session(Stream&& stream, ConnectionLimits::Slot slot, SessionContext& context,
            std::string remote)
        : stream_(std::move(stream)),
          buffer_(context.limits.max_header_bytes + kDrainChunk),
          slot_(std::move(slot)),
          ctx_(context),
          remote_(std::move(remote)) {
        ctx_.metrics.connection_opened();
    }

    ~Session() {
        end_request();
        ctx_.metrics.connection_closed();
    }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start() {
        // The first request's header (and a TLS handshake) must arrive within the header
        // deadline, counted from the accept.
        tcp().expires_after(ctx_.limits.header_timeout);
        handshake(stream_, [self = this->shared_from_this()](error_code ec) {
            if (ec) {
                return self->close_now();
            }
            self->read_header();
        });
    }

  private:
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

    // Between requests: wait for the next one's first byte for at most the idle timeout,
    // then give its header the header deadline.
    void read_next() {
        if (buffer_.size() > 0) {
            tcp().expires_after(ctx_.limits.header_timeout);
            return read_header();
        }
        buffer_.shrink_to_fit();  // an idle connection keeps no buffer
        tcp().expires_after(ctx_.limits.idle_timeout);
        stream_.async_read_some(
            buffer_.prepare(512), [self = this->shared_from_this()](error_code ec, std::size_t n) {
                if (ec) {
                    return self->close_now();  // idle timeout, or the client left
                }
                self->buffer_.commit(n);
                self->tcp().expires_after(self->ctx_.limits.header_timeout);
                self->read_header();
            });
    }

    void read_header() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(ctx_.limits.max_header_bytes));
        parser_->body_limit(ctx_.limits.max_body_bytes);
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(error_code ec) {
        if (ec == beast::error::timeout) {
            if (buffer_.size() > 0) {
                log_unanswered(408);
            }
            return close_now();
        }
        if (ec) {
            if (is_disconnect(ec)) {
                return close_now();  // the client left, with or without a partial request
            }
            begin_request();
            return fail(error_for_parse_failure(ec));
        }
        begin_request();
        const auto& header = parser_->get();
        entry_.method = std::string(header.method_string());
        entry_.path = std::string(header.target().substr(0, header.target().find('?')));
        if (auto error = check_request_header(header, ctx_.limits)) {
            return fail(*error);
        }
        if (parser_->is_done()) {
            return dispatch();
        }
        auto expect = header[http::field::expect];
        if (!expect.empty()) {
            if (!beast::iequals(expect, "100-continue")) {
                return fail({417, "expectation_failed", "only Expect: 100-continue is supported"});
            }
            return send_continue();
        }
        read_body();
    }

    // The client waits for this before it sends the body (curl does so for large bodies).
    void send_continue() {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        tcp().expires_after(ctx_.limits.write_timeout);
        net::async_write(stream_, net::buffer(kContinue),
                         [self = this->shared_from_this()](error_code ec, std::size_t) {
                             if (ec) {
                                 return self->close_now();
                             }
                             self->read_body();
                         });
    }

    void read_body() {
        tcp().expires_after(ctx_.limits.body_timeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
    }

    void on_body(error_code ec) {
        if (ec == beast::error::timeout) {
            log_unanswered(408);
            return close_now();
        }
        if (ec && is_disconnect(ec)) {
            return close_now();
        }
        if (ec) {
            return fail(error_for_parse_failure(ec));
        }
        dispatch();
    }

    // A complete request: answered from memory, or sent to its lane.
    void dispatch() {
        auto& request = parser_->get();
        version_ = request.version();
        head_ = request.method() == http::verb::head;
        keep_alive_ = request.keep_alive() && !ctx_.stopping.load() &&
                      served_ + 1 < ctx_.limits.max_requests_per_connection;
        if (ctx_.admin) {
            return dispatch_admin(request);
        }
        ApiRequest api_request = to_api_request(request, client_address_of(request));
        entry_.remote = api_request.remote;
        if (auto answer = ctx_.api.precheck(api_request)) {
            return respond(std::move(*answer));
        }
        auto self = this->shared_from_this();
        auto reply = [self](ApiResponse answer) {
            net::post(self->stream_.get_executor(), [self, answer = std::move(answer)]() mutable {
                self->respond(std::move(answer));
            });
        };
        switch (find_route(api_request.path)->lane) {
            case Lane::local:
                return respond(ctx_.api.metrics());
            case Lane::health:
                return ctx_.health.submit([reply](const ApiResponse& answer) { reply(answer); });
            case Lane::redis:
                break;
        }
        Api& api = ctx_.api;
        TokenService* service = ctx_.service;
        RedisWorkers::Job job = [reply, &api, service,
                                 request = std::move(api_request)](RedisConnection& redis) {
            reply(service ? api.execute(request, *service) : api.execute(request, redis));
        };
        if (!ctx_.workers.try_submit(job)) {
            ctx_.metrics.redis_queue_full();
            respond(busy("every Redis worker is busy; retry later"));
        }
    }

    // The admin listener: the whole request to the admin handler on an admin worker.
    void dispatch_admin(HttpRequest& request) {
        AdminRequest admin_request = to_admin_request(request, client_address_of(request));
        entry_.remote = admin_request.remote;
        auto self = this->shared_from_this();
        admin::AdminHandler* handler = ctx_.admin;
        RedisWorkers::Job job = [self, handler,
                                 request = std::move(admin_request)](RedisConnection& redis) {
            ApiResponse answer = handler->handle(request, redis);
            net::post(self->stream_.get_executor(), [self, answer = std::move(answer)]() mutable {
                self->respond(std::move(answer));
            });
        };
        if (!ctx_.workers.try_submit(job)) {
            ctx_.metrics.redis_queue_full();
            ApiResponse answer = busy("every admin worker is busy; retry later");
            add_admin_security_headers(answer);
            respond(std::move(answer));
        }
    }

    // The client's address: the peer's, or a trusted proxy's header (client_address.hpp).
    std::string client_address_of(const HttpRequest& request) const {
        if (!ctx_.proxy || !ctx_.proxy->enabled()) {
            return remote_;
        }
        std::optional<std::string> joined;
        const auto [first, last] = request.equal_range(ctx_.proxy->header);
        for (auto field = first; field != last; ++field) {
            if (joined) {
                joined->append(",");
                joined->append(field->value().data(), field->value().size());
            } else {
                joined = std::string(field->value());
            }
        }
        return client_address(
            remote_, joined ? std::optional<std::string_view>(*joined) : std::nullopt, *ctx_.proxy);
    }

    // A request that cannot be served: answer it and end the connection.
    void fail(const ApiError& error) {
        keep_alive_ = false;
        version_ = 11;
        head_ = false;
        ApiResponse answer = error_response(error);
        if (ctx_.admin) {
            add_admin_security_headers(answer);
        }
        respond(std::move(answer));
    }

    void respond(ApiResponse answer) {
        response_ = to_http_response(answer, version_, keep_alive_, head_);
        entry_.status = answer.status;
        entry_.error = answer.status >= 400 ? answer.error : std::string();
        entry_.org_id = std::move(answer.org_id);
        entry_.token_id = std::move(answer.token_id);
        entry_.detail = std::move(answer.detail);
        // Counted and logged once the answer is decided, before it is written: whatever
        // the client does next (another request, on this or another connection) sees it.
        log_request();
        tcp().expires_after(ctx_.limits.write_timeout);
        http::async_write(stream_, response_,
                          [self = this->shared_from_this()](error_code ec, std::size_t) {
                              self->on_written(ec);
                          });
    }

    void on_written(error_code ec) {
        end_request();
        response_ = {};
        if (ec) {
            return close_now();
        }
        ++served_;
        if (!keep_alive_) {
            return close_gracefully();
        }
        parser_.reset();
        read_next();
    }

    void begin_request() {
        if (!in_flight_) {
            in_flight_ = true;
            ++ctx_.in_flight;
        }
        request_start_ = Clock::now();
        entry_ = LogEntry{};
        entry_.remote = remote_;
    }

    void end_request() {
        if (in_flight_) {
            in_flight_ = false;
            --ctx_.in_flight;
        }
    }

    void log_request() {
        const double seconds = std::chrono::duration<double>(Clock::now() - request_start_).count();
        // The token API's metrics (and the usage page drawn from them) count token requests
        // only: the dashboard's own requests are in the access log.
        if (!ctx_.admin) {
            ctx_.metrics.observe_request(route_label(entry_.path), entry_.status, seconds,
                                         entry_.error);
        }
        entry_.duration_ms = seconds * 1000;
        ctx_.log.write(entry_);
    }

    // A request that ran out of time is logged although nobody gets an answer.
    void log_unanswered(int status) {
        begin_request();
        if (parser_ && parser_->is_header_done()) {
            entry_.method = std::string(parser_->get().method_string());
            entry_.path =
                std::string(parser_->get().target().substr(0, parser_->get().target().find('?')));
        }
        entry_.status = status;
        entry_.error = error_for_status(status).code;
        log_request();
        end_request();
    }

    void close_gracefully() { shutdown(stream_); }

    // Plain TCP: stop sending, read and drop what the client still sends (bounded in time
    // and bytes), then close.
    void shutdown(beast::tcp_stream&) {
        error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
        buffer_.consume(buffer_.size());
        tcp().expires_after(kLinger);
        drain();
    }

    void drain() {
        tcp().async_read_some(buffer_.prepare(kDrainChunk),
                              [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                  self->drained_ += n;
                                  if (ec || self->drained_ >= kDrainBytes) {
                                      return self->close_now();
                                  }
                                  self->drain();
                              });
    }

    // TLS: send close_notify and wait (bounded) for the client's.
    void shutdown(beast::ssl_stream<beast::tcp_stream>&) {
        tcp().expires_after(kLinger);
        stream_.async_shutdown(
            [self = this->shared_from_this()](error_code) { self->close_now(); });
    }

    void close_now() {
        error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp().close();
    }

    static void handshake(beast::tcp_stream&, std::function<void(error_code)> done) { done({}); }
    static void handshake(beast::ssl_stream<beast::tcp_stream>& stream,
                          std::function<void(error_code)> done) {
        stream.async_handshake(net::ssl::stream_base::server, std::move(done));
    }

    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    HttpResponse response_;
    ConnectionLimits::Slot slot_;
    SessionContext& ctx_;
    std::string remote_;
    std::size_t served_ = 0;
    std::size_t drained_ = 0;
    unsigned version_ = 11;
    bool head_ = false;
    bool keep_alive_ = false;
    bool in_flight_ = false;
    Clock::time_point request_start_;
    LogEntry entry_;
};

// A connection refused at accept: the 503, a bounded linger, close.
class Refusal : public std::enable_shared_from_this<Refusal> {
  public:
    Refusal(tcp::socket socket, std::atomic<int>& lingering)
        : stream_(std::move(socket)), lingering_(lingering) {
        ++lingering_;
    }
    ~Refusal() { --lingering_; }
    Refusal(const Refusal&) = delete;
    Refusal& operator=(const Refusal&) = delete;

    void start() {
        static const std::string kAnswer = [] {
            ApiResponse r = busy("the server has too many open connections; retry later");
            HttpResponse res = to_http_response(r, 11, false, false);
            std::ostringstream out;
            out << res;
            return out.str();
        }();
        stream_.expires_after(kLinger);
        net::async_write(stream_, net::buffer(kAnswer),
                         [self = shared_from_this()](error_code ec, std::size_t) {
                             if (ec) {
                                 return;
                             }
                             error_code ignored;
                             self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                             self->drain();
                         });
    }

  private:
    void drain() {
        stream_.async_read_some(net::buffer(scratch_),
                                [self = shared_from_this()](error_code ec, std::size_t) {
                                    if (!ec) {
                                        self->drain();
                                    }
                                });
    }

    beast::tcp_stream stream_;
    std::atomic<int>& lingering_;
    std::array<char, 512> scratch_{};
};

}  // namespace

void start_session(tcp::socket socket, ConnectionLimits::Slot slot, SessionContext& context,
                   net::ssl::context* tls) {
    error_code ec;
    auto peer = socket.remote_endpoint(ec);
    if (ec) {
        return;  // the client already left
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::string remote =
        peer.address().is_v6() && peer.address().to_v6().is_v4_mapped()
            ? net::ip::make_address_v4(net::ip::v4_mapped, peer.address().to_v6()).to_string()
            : peer.address().to_string();
    if (tls) {
        using TlsStream = beast::ssl_stream<beast::tcp_stream>;
        std::make_shared<Session<TlsStream>>(TlsStream(beast::tcp_stream(std::move(socket)), *tls),
                                             std::move(slot), context, std::move(remote))
            ->start();
    } else {
        std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                     std::move(slot), context, std::move(remote))
            ->start();
    }
}

void refuse_connection(tcp::socket socket, bool tls, std::atomic<int>& lingering) {
    if (tls || lingering.load() >= kMaxRefusedLingering) {
        error_code ignored;
        socket.close(ignored);
        return;
    }
    std::make_shared<Refusal>(std::move(socket), lingering)->start();
}

}  // namespace tka::tokend
