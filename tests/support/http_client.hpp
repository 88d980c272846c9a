// HTTP for integration tests, written against the wire rather than against any server
// library: HttpClient, a small blocking HTTP/1.1 client (keep-alive, timeouts, optional TLS
// with a CA file, chunked uploads) for tests that play a well-behaved client, and
// RawConnection, a bare TCP socket for tests that play a hostile one (stalled, trickling,
// pipelined or malformed requests) and need to see exactly which bytes come back and when
// the server closes. parse_responses() splits bytes read from a RawConnection into the
// HTTP responses they contain, in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tka::test {

// Header names compare without regard to case (RFC 9110, 5.1).
struct CaseInsensitiveLess {
    bool operator()(const std::string& a, const std::string& b) const;
};
using HttpHeaders = std::multimap<std::string, std::string, CaseInsensitiveLess>;

struct HttpResponse {
    int status = 0;
    int version = 11;  // 10 or 11
    std::string reason;
    HttpHeaders headers;
    std::string body;

    bool has_header(const std::string& name) const { return headers.count(name) > 0; }
    // The first value of `name`, "" when absent.
    std::string header(const std::string& name) const;
    // What the server said about the connection: false for "Connection: close", or for an
    // HTTP/1.0 answer without "Connection: keep-alive".
    bool keep_alive() const;
};

struct HttpRequest {
    std::string method = "GET";
    std::string target = "/";
    HttpHeaders headers;  // Host, Content-Length and Transfer-Encoding are added as needed
    std::string body;
    // Send the body with Transfer-Encoding: chunked in chunks of this many bytes (0: send it
    // with Content-Length).
    std::size_t chunk_size = 0;
};

struct HttpClientOptions {
    std::chrono::milliseconds connect_timeout{5000};  // TCP connect plus TLS handshake
    std::chrono::milliseconds read_timeout{10000};    // one whole response, after the request
    std::chrono::milliseconds write_timeout{10000};   // one whole request
    bool tls = false;
    std::string ca_file;  // with tls: verify the server's certificate and name against it
};

// One keep-alive connection to host:port, opened on the first request. A connection the
// server closed between requests (idle timeout, request cap) is replaced before the next
// request; a request that finds its reused connection closed before any byte of an answer
// came back is sent once more on a fresh connection, as browsers do.
// Not thread-safe: one client per thread.
class HttpClient {
  public:
    HttpClient(std::string host, int port, HttpClientOptions options = {});
    ~HttpClient();
    HttpClient(HttpClient&&) noexcept;
    HttpClient& operator=(HttpClient&&) noexcept;

    void set_connect_timeout(std::chrono::milliseconds t) { options_.connect_timeout = t; }
    void set_read_timeout(std::chrono::milliseconds t) { options_.read_timeout = t; }
    void set_write_timeout(std::chrono::milliseconds t) { options_.write_timeout = t; }

    // The response, or nullopt when none came (refused, timed out, closed, TLS failure);
    // last_error() then says why.
    std::optional<HttpResponse> send(const HttpRequest& request);

    std::optional<HttpResponse> get(const std::string& target, const HttpHeaders& headers = {});
    std::optional<HttpResponse> head(const std::string& target, const HttpHeaders& headers = {});
    std::optional<HttpResponse> del(const std::string& target, const HttpHeaders& headers = {});
    std::optional<HttpResponse> post(const std::string& target, const std::string& body,
                                     const std::string& content_type,
                                     const HttpHeaders& headers = {});
    std::optional<HttpResponse> put(const std::string& target, const std::string& body,
                                    const std::string& content_type,
                                    const HttpHeaders& headers = {});

    const std::string& last_error() const { return last_error_; }
    // Connections opened so far (a test can tell whether keep-alive held).
    int connections_opened() const { return connections_opened_; }
    bool connected() const;
    void close();

  private:
    struct Connection;
    std::optional<HttpResponse> attempt(const HttpRequest& request, bool& reused,
                                        bool& nothing_received);

    std::string host_;
    int port_;
    HttpClientOptions options_;
    std::unique_ptr<Connection> connection_;
    std::string last_error_;
    int connections_opened_ = 0;
};

// The bytes of a request as HttpClient sends them (for tests that pipeline or corrupt them).
std::string serialize_request(const HttpRequest& request, const std::string& host);

// A plain TCP connection to 127.0.0.1:port under the test's full control. Nothing is sent
// unless the test sends it; every byte read is kept in received().
class RawConnection {
  public:
    explicit RawConnection(int port,
                           std::chrono::milliseconds connect_timeout = std::chrono::seconds(5));
    ~RawConnection();
    RawConnection(RawConnection&&) noexcept;
    RawConnection& operator=(RawConnection&&) noexcept;

    // Sends all of `bytes` within `timeout`. False, without failing the test, when the
    // peer has closed or reset the connection (EPIPE, ECONNRESET) or stopped reading.
    bool send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Closes the sending half (the server reads end-of-file).
    void shutdown_write();

    // Waits up to `timeout` for bytes, then returns what has arrived without waiting
    // further ("" when nothing came or the peer closed).
    std::string read_available(std::chrono::milliseconds timeout);
    // Reads until the peer closes or `timeout` passes; returns the bytes read meanwhile.
    std::string read_until_closed(std::chrono::milliseconds timeout);
    // True when the peer closes (end-of-file or reset) within `timeout`; what it sent
    // before that is kept in received().
    bool closed_within(std::chrono::milliseconds timeout);
    // Reads until received() holds `count` complete responses, the peer closes or `timeout`
    // passes; returns the responses parsed so far (possibly fewer).
    std::vector<HttpResponse> read_responses(std::size_t count, std::chrono::milliseconds timeout);
    // The first response, or nullopt when none arrived in full within `timeout`.
    std::optional<HttpResponse> read_response(std::chrono::milliseconds timeout);

    const std::string& received() const { return received_; }
    // The responses in received() (a body without a length runs to the close).
    std::vector<HttpResponse> responses() const;
    bool peer_closed() const { return peer_closed_; }
    bool reset() const { return reset_; }
    int fd() const { return fd_; }

  private:
    // One read of at most what is available, waiting up to `timeout` for it. False when
    // nothing came in time or the peer closed.
    bool read_some(std::chrono::milliseconds timeout);

    int fd_ = -1;
    std::string received_;
    bool peer_closed_ = false;
    bool reset_ = false;
};

// Splits `bytes` into the HTTP/1.x responses they hold, in order, stopping at the first
// incomplete or malformed one. `at_eof`: the peer closed after these bytes, which ends a
// body that has neither Content-Length nor chunked framing. `consumed` (optional) receives
// the number of bytes the complete responses took.
std::vector<HttpResponse> parse_responses(std::string_view bytes, bool at_eof = false,
                                          std::size_t* consumed = nullptr);

// A body as HTML forms upload it (multipart/form-data), with its Content-Type value.
struct MultipartBody {
    std::string content_type;
    std::string body;
};
MultipartBody multipart_form(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace tka::test
