// TLS to Redis with OpenSSL 3: the client SSL_CTX built from RedisTlsOptions (server
// certificate verified by default, against the CA file or the system's trust store; client
// certificate and key for mutual TLS) and the RedisTransport that runs TLS over a connected
// non-blocking socket (socket_transport.hpp). The handshake checks that the certificate
// names the host of the URL (DNS name or IP address) and sends that name as SNI.
// `insecure` turns every check off: the link is encrypted but anyone in the path can
// impersonate the server. Errors read like "TLS handshake with 127.0.0.1:6390 failed:
// certificate verify failed (unable to get local issuer certificate)".
#pragma once

#include <memory>
#include <string>

#include "common/redis_tls_options.hpp"
#include "common/redis_transport.hpp"
#include "common/socket_transport.hpp"

using SSL_CTX = struct ssl_ctx_st;
using SSL = struct ssl_st;
using BIO_METHOD = struct bio_method_st;

namespace tka {

class TlsContext {
  public:
    // Throws RedisError when a CA, certificate or key file cannot be loaded (with the
    // file's name and OpenSSL's reason).
    explicit TlsContext(const RedisTlsOptions& options);
    SSL_CTX* get() const { return ctx_.get(); }
    // The socket BIO (send with MSG_NOSIGNAL) that TlsTransport puts under each SSL.
    const BIO_METHOD* bio_method() const { return bio_method_.get(); }
    bool verifies() const { return verify_; }

  private:
    struct Deleter {
        void operator()(SSL_CTX* ctx) const;
        void operator()(BIO_METHOD* method) const;
    };
    std::unique_ptr<SSL_CTX, Deleter> ctx_;
    std::unique_ptr<BIO_METHOD, Deleter> bio_method_;
    bool verify_ = true;
};

class TlsTransport final : public RedisTransport {
  public:
    // Completes the handshake with the server at `host` (checked against its certificate
    // unless the context is insecure) over `fd` by `deadline`, or throws RedisError.
    // `peer` ("127.0.0.1:6390") names the server in messages.
    // The transport keeps `context` alive as long as its SSL and BIO use it.
    TlsTransport(std::shared_ptr<const TlsContext> context, Fd fd, const std::string& host,
                 std::string peer, Deadline deadline);
    void write_all(std::string_view data, Deadline deadline) override;
    std::size_t read_some(char* buf, std::size_t size, Deadline deadline) override;

  private:
    struct Deleter {
        void operator()(SSL* ssl) const;
    };
    // Waits for what OpenSSL asked for (SSL_ERROR_WANT_READ/WRITE); false on anything
    // else; RedisError("<doing> <peer> timed out") at the deadline.
    bool wait_for(int ssl_error, Deadline deadline, std::string_view doing) const;
    // `why` a read or write failed, with a hint when the server asked for a client
    // certificate that is not configured.
    std::string after_handshake(std::string why) const;

    std::shared_ptr<const TlsContext> context_;
    Fd fd_;
    std::string peer_;
    bool asked_for_certificate_ = false;  // set during the handshake (a callback's data)
    std::unique_ptr<SSL, Deleter> ssl_;
};

}  // namespace tka
