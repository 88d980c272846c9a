// HttpClient over Boost.Beast and Asio (plain TCP or OpenSSL), RawConnection over POSIX
// sockets, and the response splitter both rely on (see http_client.hpp).
//
// HttpClient runs every step (connect, handshake, write, read) as an asynchronous operation
// on its own io_context and waits for it: beast::tcp_stream then enforces each step's
// timeout by closing the socket, which a blocking call could not do. Requests are written
// as bytes we format ourselves, so a test can send any header, any framing, in one write;
// responses are read with Beast's parser.
#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace tka::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
    return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string HttpResponse::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

namespace {

// True when the comma-separated `list` holds `token`, ignoring case and blanks.
bool has_token(const std::string& list, std::string_view token) {
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t end = list.find(',', start);
        if (end == std::string::npos) {
            end = list.size();
        }
        std::string_view item(list.data() + start, end - start);
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) {
            item.remove_prefix(1);
        }
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) {
            item.remove_suffix(1);
        }
        if (item.size() == token.size() &&
            ::strncasecmp(item.data(), token.data(), token.size()) == 0) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

}  // namespace

bool HttpResponse::keep_alive() const {
    std::string connection;
    for (auto [it, end] = headers.equal_range("Connection"); it != end; ++it) {
        connection += it->second;
        connection += ',';
    }
    if (has_token(connection, "close")) {
        return false;
    }
    return version >= 11 || has_token(connection, "keep-alive");
}

namespace {

HttpResponse to_response(http::response<http::string_body>&& from) {
    HttpResponse r;
    r.status = static_cast<int>(from.result_int());
    r.version = static_cast<int>(from.version());
    r.reason = std::string(from.reason());
    for (const auto& field : from) {
        r.headers.emplace(std::string(field.name_string()), std::string(field.value()));
    }
    r.body = std::move(from.body());
    return r;
}

void configure(http::response_parser<http::string_body>& parser) {
    parser.header_limit(1024 * 1024);
    parser.body_limit(64ULL * 1024 * 1024);
    parser.eager(true);
}

bool is_ip_address(const std::string& host) {
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

std::string hex(std::size_t n) {
    char text[32];
    std::snprintf(text, sizeof text, "%zx", n);
    return text;
}

}  // namespace

std::string serialize_request(const HttpRequest& request, const std::string& host) {
    std::string out;
    out.reserve(256 + request.body.size() + request.body.size() / 16);
    out += request.method;
    out += ' ';
    out += request.target;
    out += " HTTP/1.1\r\n";
    auto field = [&out](const std::string& name, const std::string& value) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    };
    if (request.headers.count("Host") == 0) {
        field("Host", host);
    }
    for (const auto& [name, value] : request.headers) {
        field(name, value);
    }
    const bool chunked = request.chunk_size > 0;
    const bool wants_length = !request.body.empty() || request.method == "POST" ||
                              request.method == "PUT" || request.method == "PATCH";
    if (chunked && request.headers.count("Transfer-Encoding") == 0) {
        field("Transfer-Encoding", "chunked");
    } else if (!chunked && wants_length && request.headers.count("Content-Length") == 0) {
        field("Content-Length", std::to_string(request.body.size()));
    }
    out += "\r\n";
    if (!chunked) {
        out += request.body;
        return out;
    }
    for (std::size_t at = 0; at < request.body.size(); at += request.chunk_size) {
        const std::size_t n = std::min(request.chunk_size, request.body.size() - at);
        out += hex(n);
        out += "\r\n";
        out.append(request.body, at, n);
        out += "\r\n";
    }
    out += "0\r\n\r\n";
    return out;
}

// ---------------------------------------------------------------------------------------
// HttpClient

struct HttpClient::Connection {
    net::io_context io;
    std::unique_ptr<net::ssl::context> tls_context;
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

    // Starts one asynchronous operation with `start(handler)` and runs the io_context
    // until it completes; its error code.
    template <typename Start>
    beast::error_code run(Start start) {
        beast::error_code result = net::error::would_block;
        start([&result](beast::error_code ec, auto&&...) { result = ec; });
        io.restart();
        io.run();
        return result;
    }

    template <typename Op>
    beast::error_code on_stream(Op op) {
        if (tls) {
            return op(*tls);
        }
        return op(*plain);
    }

    // Data or an end-of-file is waiting on a connection that has no request in flight:
    // the server closed it (or broke the protocol), so it cannot carry another request.
    bool stale() {
        pollfd p{lowest().socket().native_handle(), POLLIN, 0};
        return ::poll(&p, 1, 0) != 0;
    }

    ~Connection() {
        beast::error_code ignored;
        lowest().socket().close(ignored);
    }
};

HttpClient::HttpClient(std::string host, int port, HttpClientOptions options)
    : host_(std::move(host)), port_(port), options_(std::move(options)) {}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

bool HttpClient::connected() const {
    return connection_ != nullptr;
}

void HttpClient::close() {
    connection_.reset();
}

std::optional<HttpResponse> HttpClient::send(const HttpRequest& request) {
    bool reused = false;
    bool nothing_received = false;
    auto response = attempt(request, reused, nothing_received);
    if (!response && reused && nothing_received) {
        response = attempt(request, reused, nothing_received);
    }
    return response;
}

std::optional<HttpResponse> HttpClient::attempt(const HttpRequest& request, bool& reused,
                                                bool& nothing_received) {
    nothing_received = false;
    if (connection_ && connection_->stale()) {
        connection_.reset();
    }
    reused = connection_ != nullptr;
    auto fail = [this](const std::string& step, const beast::error_code& ec) {
        last_error_ = step + ": " + ec.message();
        connection_.reset();
        return std::nullopt;
    };

    if (!connection_) {
        auto c = std::make_unique<Connection>();
        beast::error_code ec;
        tcp::resolver resolver(c->io);
        auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
        if (ec) {
            return fail("resolve " + host_, ec);
        }
        if (options_.tls) {
            c->tls_context = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
            if (!options_.ca_file.empty()) {
                c->tls_context->load_verify_file(options_.ca_file, ec);
                if (ec) {
                    return fail("load CA file " + options_.ca_file, ec);
                }
                c->tls_context->set_verify_mode(net::ssl::verify_peer);
            }
            c->tls.emplace(c->io, *c->tls_context);
            if (!options_.ca_file.empty()) {
                c->tls->set_verify_callback(net::ssl::host_name_verification(host_));
            }
            if (!is_ip_address(host_)) {
                // SSL_set_tlsext_host_name without its C cast.
                SSL_ctrl(c->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                         TLSEXT_NAMETYPE_host_name, const_cast<char*>(host_.c_str()));
            }
        } else {
            c->plain.emplace(c->io);
        }
        c->lowest().expires_after(options_.connect_timeout);
        ec = c->run([&](auto handler) { c->lowest().async_connect(endpoints, handler); });
        if (ec) {
            return fail("connect", ec);
        }
        c->lowest().socket().set_option(tcp::no_delay(true), ec);
        if (c->tls) {
            ec = c->run([&](auto handler) {
                c->tls->async_handshake(net::ssl::stream_base::client, handler);
            });
            if (ec) {
                return fail("TLS handshake", ec);
            }
        }
        connection_ = std::move(c);
        ++connections_opened_;
    }
    Connection& c = *connection_;

    std::string port_suffix = ":";
    port_suffix += std::to_string(port_);
    const std::string bytes = serialize_request(request, host_ + port_suffix);
    c.lowest().expires_after(options_.write_timeout);
    const beast::error_code write_error = c.on_stream([&](auto& stream) {
        return c.run([&](auto handler) { net::async_write(stream, net::buffer(bytes), handler); });
    });
    // A server may answer before it has read the whole request (413 from the header) and
    // close; its answer can still be waiting to be read.
    if (write_error && write_error != net::error::broken_pipe &&
        write_error != net::error::connection_reset) {
        return fail("write", write_error);
    }

    http::response_parser<http::string_body> parser;
    configure(parser);
    if (request.method == "HEAD") {
        parser.skip(true);
    }
    c.lowest().expires_after(options_.read_timeout);
    const beast::error_code read_error = c.on_stream([&](auto& stream) {
        return c.run([&](auto handler) { http::async_read(stream, c.buffer, parser, handler); });
    });
    if (read_error) {
        nothing_received =
            !parser.got_some() && c.buffer.size() == 0 &&
            (read_error == http::error::end_of_stream ||
             read_error == net::error::connection_reset || read_error == net::error::eof);
        if (write_error) {
            return fail("write", write_error);
        }
        return fail("read", read_error);
    }
    HttpResponse response = to_response(parser.release());
    if (write_error || !response.keep_alive()) {
        connection_.reset();
    }
    last_error_.clear();
    return response;
}

std::optional<HttpResponse> HttpClient::get(const std::string& target, const HttpHeaders& headers) {
    return send({"GET", target, headers, {}, 0});
}

std::optional<HttpResponse> HttpClient::head(const std::string& target,
                                             const HttpHeaders& headers) {
    return send({"HEAD", target, headers, {}, 0});
}

std::optional<HttpResponse> HttpClient::del(const std::string& target, const HttpHeaders& headers) {
    return send({"DELETE", target, headers, {}, 0});
}

std::optional<HttpResponse> HttpClient::post(const std::string& target, const std::string& body,
                                             const std::string& content_type,
                                             const HttpHeaders& headers) {
    HttpRequest r{"POST", target, headers, body, 0};
    r.headers.emplace("Content-Type", content_type);
    return send(r);
}

std::optional<HttpResponse> HttpClient::put(const std::string& target, const std::string& body,
                                            const std::string& content_type,
                                            const HttpHeaders& headers) {
    HttpRequest r{"PUT", target, headers, body, 0};
    r.headers.emplace("Content-Type", content_type);
    return send(r);
}

// ---------------------------------------------------------------------------------------
// Splitting responses

std::vector<HttpResponse> parse_responses(std::string_view bytes, bool at_eof,
                                          std::size_t* consumed) {
    std::vector<HttpResponse> out;
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        http::response_parser<http::string_body> parser;
        configure(parser);
        const std::string_view rest = bytes.substr(offset);
        std::size_t used = 0;
        beast::error_code ec;
        while (!parser.is_done() && used < rest.size()) {
            const std::size_t n =
                parser.put(net::buffer(rest.data() + used, rest.size() - used), ec);
            used += n;
            if (ec == http::error::need_more) {
                ec = {};
                if (n == 0) {
                    break;
                }
                continue;
            }
            if (ec) {
                break;
            }
        }
        if (!ec && !parser.is_done() && at_eof && used == rest.size() && parser.is_header_done()) {
            parser.put_eof(ec);
        }
        if (ec || !parser.is_done()) {
            break;
        }
        out.push_back(to_response(parser.release()));
        offset += used;
    }
    if (consumed != nullptr) {
        *consumed = offset;
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// RawConnection

namespace {

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1000LL * 3600));
}

}  // namespace

RawConnection::RawConnection(int port, milliseconds connect_timeout)
    : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) {
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd_, POLLOUT, 0};
        rc = ::poll(&p, 1, static_cast<int>(connect_timeout.count()));
        int error = ETIMEDOUT;
        socklen_t len = sizeof error;
        if (rc == 1) {
            ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
        }
        errno = error;
        rc = error == 0 ? 0 : -1;
    }
    if (rc != 0) {
        const std::string why = std::strerror(errno);
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + why);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      received_(std::move(other.received_)),
      peer_closed_(other.peer_closed_),
      reset_(other.reset_) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = std::exchange(other.fd_, -1);
        received_ = std::move(other.received_);
        peer_closed_ = other.peer_closed_;
        reset_ = other.reset_;
    }
    return *this;
}

bool RawConnection::send(std::string_view bytes, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd_, POLLOUT, 0};
            if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
                return false;  // the peer stopped reading
            }
            continue;
        }
        if (errno == ECONNRESET) {
            reset_ = true;
        }
        return false;  // EPIPE, ECONNRESET: the peer is gone
    }
    return true;
}

void RawConnection::shutdown_write() {
    ::shutdown(fd_, SHUT_WR);
}

bool RawConnection::read_some(milliseconds timeout) {
    if (peer_closed_) {
        return false;
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) {
        return false;
    }
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
        received_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
    if (n == 0) {
        peer_closed_ = true;
    } else if (errno == ECONNRESET || errno == EPIPE) {
        peer_closed_ = true;
        reset_ = true;
    }
    return false;
}

std::string RawConnection::read_available(milliseconds timeout) {
    const std::size_t before = received_.size();
    if (read_some(timeout)) {
        while (read_some(milliseconds(0))) {
        }
    }
    return received_.substr(before);
}

std::string RawConnection::read_until_closed(milliseconds timeout) {
    const std::size_t before = received_.size();
    const auto deadline = Clock::now() + timeout;
    while (!peer_closed_ && Clock::now() < deadline) {
        read_some(milliseconds(remaining_ms(deadline)));
    }
    return received_.substr(before);
}

bool RawConnection::closed_within(milliseconds timeout) {
    read_until_closed(timeout);
    return peer_closed_;
}

std::vector<HttpResponse> RawConnection::read_responses(std::size_t count, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        auto parsed = responses();
        if (parsed.size() >= count || peer_closed_ || Clock::now() >= deadline) {
            return parsed;
        }
        read_some(milliseconds(remaining_ms(deadline)));
    }
}

std::optional<HttpResponse> RawConnection::read_response(milliseconds timeout) {
    auto parsed = read_responses(1, timeout);
    if (parsed.empty()) {
        return std::nullopt;
    }
    return std::move(parsed.front());
}

std::vector<HttpResponse> RawConnection::responses() const {
    return parse_responses(received_, peer_closed_);
}

// ---------------------------------------------------------------------------------------

MultipartBody multipart_form(const std::vector<std::pair<std::string, std::string>>& fields) {
    const std::string boundary = "----tka-test-form-boundary-7MA4YWxkTrZu0gW";
    MultipartBody m;
    m.content_type = "multipart/form-data; boundary=" + boundary;
    for (const auto& [name, value] : fields) {
        m.body += "--";
        m.body += boundary;
        m.body += "\r\nContent-Disposition: form-data; name=\"";
        m.body += name;
        m.body += "\"\r\n\r\n";
        m.body += value;
        m.body += "\r\n";
    }
    m.body += "--";
    m.body += boundary;
    m.body += "--\r\n";
    return m;
}

}  // namespace tka::test
