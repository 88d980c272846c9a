// OpenSSL under RedisConnection (tls_transport.hpp). OpenSSL reads and writes the socket
// through a small BIO of ours (its method owned by the TlsContext) that sends with MSG_NOSIGNAL:
// OpenSSL's own socket BIO calls write(), and a Redis that closes the connection would then raise
// SIGPIPE in tokenctl or in the broker. Non-blocking throughout: every WANT_READ / WANT_WRITE waits
// with poll() for the caller's deadline.
#include "common/tls_transport.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace tka {
namespace {

// The reason of the last error on OpenSSL's queue ("certificate verify failed"), and
// clears the queue; `fallback` when the queue is empty.
std::string openssl_reason(const char* fallback) {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
    return reason != nullptr ? reason : fallback;
}

// ---- the socket BIO: send(MSG_NOSIGNAL) and recv() on the fd kept as the BIO's data ----

int fd_of(BIO* bio) {
    return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
}

int bio_write(BIO* bio, const char* data, std::size_t len, std::size_t* written) {
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::send(fd_of(bio), data, len, MSG_NOSIGNAL);
    if (n >= 0) {
        *written = static_cast<std::size_t>(n);
        return 1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        BIO_set_retry_write(bio);
    }
    return 0;
}

int bio_read(BIO* bio, char* data, std::size_t len, std::size_t* read) {
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::recv(fd_of(bio), data, len, 0);
    if (n > 0) {
        *read = static_cast<std::size_t>(n);
        return 1;
    }
    if (n == 0) {
        BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        BIO_set_retry_read(bio);
    }
    return 0;
}

long bio_ctrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;
        case BIO_CTRL_EOF:
            return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
        default:
            return 0;
    }
}

// The BIO type of ours: one number per process (BIO_get_new_index hands out at most 127).
int socket_bio_type() {
    static const int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    return type;
}

constexpr std::string_view kHandshake = "TLS handshake with";

// Called by OpenSSL when the server asks for a client certificate and none is configured:
// remembers it (a server requiring one closes the connection right after the handshake,
// and the error then says why) and continues without a certificate.
int note_certificate_request(SSL* ssl, X509** /*cert*/, EVP_PKEY** /*key*/) {
    auto* asked = static_cast<bool*>(SSL_get_ex_data(ssl, 0));  // index 0: the app data
    if (asked != nullptr) {
        *asked = true;
    }
    return 0;
}

bool is_ip_address(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Why a handshake (or a read, a write) failed, as a user can act on it: OpenSSL's reason, and for a
// failed verification the certificate check that failed ("unable to get local issuer certificate",
// "hostname mismatch").
std::string tls_failure(SSL* ssl, int ssl_error, bool handshake) {
    if (ssl_error == SSL_ERROR_SSL) {
        std::string why = openssl_reason("TLS error");
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            why.append(" (").append(X509_verify_cert_error_string(verify)).append(")");
        }
        return why;
    }
    if (ssl_error == SSL_ERROR_ZERO_RETURN || (ssl_error == SSL_ERROR_SYSCALL && errno == 0)) {
        ERR_clear_error();
        return handshake ? "the server closed the connection (is it a TLS port?)"
                         : "the server closed the connection";
    }
    if (ssl_error == SSL_ERROR_SYSCALL) {
        const int err = errno;
        ERR_clear_error();
        return std::strerror(err);
    }
    return openssl_reason("TLS error");
}

}  // namespace

void TlsContext::Deleter::operator()(SSL_CTX* ctx) const {
    SSL_CTX_free(ctx);
}

void TlsContext::Deleter::operator()(BIO_METHOD* method) const {
    BIO_meth_free(method);
}

void TlsTransport::Deleter::operator()(SSL* ssl) const {
    SSL_free(ssl);
}

TlsContext::TlsContext(const RedisTlsOptions& options)
    : ctx_(SSL_CTX_new(TLS_client_method())),
      bio_method_(BIO_meth_new(socket_bio_type(), "tka socket")),
      verify_(!options.insecure) {
    if (bio_method_) {
        BIO_meth_set_write_ex(bio_method_.get(), bio_write);
        BIO_meth_set_read_ex(bio_method_.get(), bio_read);
        BIO_meth_set_ctrl(bio_method_.get(), bio_ctrl);
    }
    if (!ctx_ || !bio_method_) {
        throw RedisError(fmt::format("Redis TLS: {}", openssl_reason("cannot create a context")));
    }
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (verify_) {
        SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
        const bool loaded =
            options.ca_file.empty()
                ? SSL_CTX_set_default_verify_paths(ctx_.get()) == 1
                : SSL_CTX_load_verify_locations(ctx_.get(), options.ca_file.c_str(), nullptr) == 1;
        if (!loaded) {
            throw RedisError(fmt::format(
                "Redis TLS: cannot load the CA file '{}': {}",
                options.ca_file.empty() ? std::string("(system default)") : options.ca_file,
                openssl_reason("no certificates")));
        }
    } else {
        SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
    }
    if (options.cert_file.empty()) {
        SSL_CTX_set_client_cert_cb(ctx_.get(), note_certificate_request);
    } else {
        if (SSL_CTX_use_certificate_chain_file(ctx_.get(), options.cert_file.c_str()) != 1) {
            throw RedisError(fmt::format("Redis TLS: cannot load the client certificate '{}': {}",
                                         options.cert_file, openssl_reason("unreadable")));
        }
        if (SSL_CTX_use_PrivateKey_file(ctx_.get(), options.key_file.c_str(), SSL_FILETYPE_PEM) !=
            1) {
            throw RedisError(fmt::format("Redis TLS: cannot load the client key '{}': {}",
                                         options.key_file, openssl_reason("unreadable")));
        }
        if (SSL_CTX_check_private_key(ctx_.get()) != 1) {
            throw RedisError(
                fmt::format("Redis TLS: the client key '{}' does not match the "
                            "certificate '{}'",
                            options.key_file, options.cert_file));
        }
    }
}

TlsTransport::TlsTransport(std::shared_ptr<const TlsContext> context, Fd fd,
                           const std::string& host, std::string peer, Deadline deadline)
    : context_(std::move(context)),
      fd_(std::move(fd)),
      peer_(std::move(peer)),
      ssl_(SSL_new(context_->get())) {
    BIO* bio = ssl_ ? BIO_new(context_->bio_method()) : nullptr;
    if (bio == nullptr) {
        throw RedisError(fmt::format("TLS with {}: {}", peer_, openssl_reason("out of memory")));
    }
    BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd_.get())));
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_.get(), bio, bio);  // the SSL owns the BIO from here
    SSL_set_ex_data(ssl_.get(), 0, &asked_for_certificate_);
    const bool ip = is_ip_address(host);
    if (!ip) {
        // SNI, for names only (RFC 6066); SSL_set_tlsext_host_name without its C cast.
        SSL_ctrl(ssl_.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str()));
    }
    if (context_->verifies()) {
        SSL_set_hostflags(ssl_.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), host.c_str())
                          : SSL_set1_host(ssl_.get(), host.c_str());
        if (ok != 1) {
            throw RedisError(
                fmt::format("TLS with {}: cannot check the certificate against '{}'", peer_, host));
        }
    }
    while (true) {
        ERR_clear_error();
        errno = 0;
        const int rc = SSL_connect(ssl_.get());
        if (rc == 1) {
            return;
        }
        const int error = SSL_get_error(ssl_.get(), rc);
        if (!wait_for(error, deadline, kHandshake)) {
            throw RedisError(fmt::format("{} {} failed: {}", kHandshake, peer_,
                                         tls_failure(ssl_.get(), error, true)));
        }
    }
}

bool TlsTransport::wait_for(int ssl_error, Deadline deadline, std::string_view doing) const {
    if (ssl_error != SSL_ERROR_WANT_READ && ssl_error != SSL_ERROR_WANT_WRITE) {
        return false;
    }
    const short events = ssl_error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    if (!wait_ready(fd_.get(), events, deadline)) {
        ERR_clear_error();
        throw RedisError(fmt::format("{} {} timed out{}", doing, peer_,
                                     doing == kHandshake ? " (is it a TLS port?)" : ""));
    }
    return true;
}

std::string TlsTransport::after_handshake(std::string why) const {
    if (asked_for_certificate_) {
        why.append("; the server asked for a client certificate and none is configured");
    }
    return why;
}

void TlsTransport::write_all(std::string_view data, Deadline deadline) {
    while (!data.empty()) {
        ERR_clear_error();
        errno = 0;
        std::size_t written = 0;
        const int rc = SSL_write_ex(ssl_.get(), data.data(), data.size(), &written);
        if (rc == 1) {
            data.remove_prefix(written);
            continue;
        }
        const int error = SSL_get_error(ssl_.get(), rc);
        if (!wait_for(error, deadline, "TLS write to")) {
            throw RedisError(fmt::format("TLS write to {} failed: {}", peer_,
                                         after_handshake(tls_failure(ssl_.get(), error, false))));
        }
    }
}

std::size_t TlsTransport::read_some(char* buf, std::size_t size, Deadline deadline) {
    while (true) {
        ERR_clear_error();
        errno = 0;
        std::size_t read = 0;
        const int rc = SSL_read_ex(ssl_.get(), buf, size, &read);
        if (rc == 1) {
            return read;
        }
        const int error = SSL_get_error(ssl_.get(), rc);
        if (!wait_for(error, deadline, "TLS read from")) {
            throw RedisError(fmt::format("TLS read from {} failed: {}", peer_,
                                         after_handshake(tls_failure(ssl_.get(), error, false))));
        }
    }
}

}  // namespace tka
