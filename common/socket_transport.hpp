// Non-blocking sockets with deadlines: the RAII file descriptor, connecting to host:port
// (every address the name resolves to, IPv4 and IPv6, in order) or to a unix socket, waiting
// with poll(), and the plain (unencrypted) RedisTransport over such a socket. TLS
// (tls_transport.hpp) builds on the same connected socket.
#pragma once

#include <string>
#include <utility>

#include "common/redis_transport.hpp"

namespace tka {

// Owns one file descriptor; closes it on destruction.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd();
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

// "host:port", "[v6]:port": how an address appears in messages.
std::string host_port_text(const std::string& host, int port);

// A connected, non-blocking TCP socket (TCP_NODELAY) to host:port, or RedisError with the
// reason alone ("Connection refused", "Connection timed out", "cannot resolve 'h': ...");
// the caller says what it was connecting to.
Fd connect_tcp(const std::string& host, int port, Deadline deadline);
// The same for a unix domain socket.
Fd connect_unix(const std::string& path, Deadline deadline);

// Waits until `fd` is ready for `events` (POLLIN / POLLOUT); false when the deadline passed.
bool wait_ready(int fd, short events, Deadline deadline);

// The plain transport: bytes as they are over a connected socket.
class SocketTransport final : public RedisTransport {
  public:
    // `peer` ("127.0.0.1:6379", a socket path) names the other end in error messages.
    SocketTransport(Fd fd, std::string peer) : fd_(std::move(fd)), peer_(std::move(peer)) {}
    void write_all(std::string_view data, Deadline deadline) override;
    std::size_t read_some(char* buf, std::size_t size, Deadline deadline) override;

  private:
    Fd fd_;
    std::string peer_;
};

}  // namespace tka
