// Sockets with deadlines (socket_transport.hpp): non-blocking connect() completed with
// poll(), reads and writes that wait with poll() until the deadline, send() with
// MSG_NOSIGNAL so a peer that went away is an error, never a SIGPIPE.
#include "common/socket_transport.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace tka {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int err) {
    return std::strerror(err);
}

[[noreturn]] void fail_connect(const std::string& why) {
    throw RedisError(why);
}

struct AddrinfoDeleter {
    void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

// Starts a non-blocking connect() and completes it by the deadline; returns 0 or an errno.
int connect_by(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) {
    if (::connect(fd, addr, len) == 0) {
        return 0;
    }
    if (errno != EINPROGRESS && errno != EAGAIN) {
        return errno;
    }
    if (!wait_ready(fd, POLLOUT, deadline)) {
        return ETIMEDOUT;
    }
    int err = 0;
    socklen_t err_len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) {
        return errno;
    }
    return err;
}

Fd new_socket(int family, int type, int protocol) {
    return Fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol));
}

}  // namespace

Fd::~Fd() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

std::string host_port_text(const std::string& host, int port) {
    std::string out;
    if (host.find(':') != std::string::npos) {
        out.append("[").append(host).append("]");
    } else {
        out.append(host);
    }
    out.append(":").append(std::to_string(port));
    return out;
}

bool wait_ready(int fd, short events, Deadline deadline) {
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        // Round up so a wait never spins at 0 ms before the deadline.
        const int timeout_ms =
            left.count() <= 0
                ? 0
                : static_cast<int>(std::min<long long>(left.count() + 1, 24LL * 3600 * 1000));
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, timeout_ms);
        if (n > 0) {
            return true;  // ready, or an error/hang-up the next call will report
        }
        if (n == 0) {
            if (Clock::now() >= deadline) {
                return false;
            }
            continue;
        }
        if (errno != EINTR) {
            throw RedisError(fmt::format("poll failed: {}", errno_text(errno)));
        }
    }
}

Fd connect_tcp(const std::string& host, int port, Deadline deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    // No AI_ADDRCONFIG: on a host with loopback only it would hide 127.0.0.1 and ::1.
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) {
        fail_connect(fmt::format("cannot resolve '{}': {}", host, gai_strerror(rc)));
    }
    const std::unique_ptr<addrinfo, AddrinfoDeleter> list(found);
    std::string last = "no address";
    for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
        Fd fd = new_socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (!fd) {
            last = errno_text(errno);
            continue;
        }
        const int err = connect_by(fd.get(), a->ai_addr, a->ai_addrlen, deadline);
        if (err == 0) {
            const int one = 1;
            ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        last = err == ETIMEDOUT ? std::string("Connection timed out") : errno_text(err);
        if (Clock::now() >= deadline) {
            break;
        }
    }
    fail_connect(last);
}

Fd connect_unix(const std::string& path, Deadline deadline) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) {
        fail_connect("socket path too long");
    }
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    Fd fd = new_socket(AF_UNIX, SOCK_STREAM, 0);
    if (!fd) {
        fail_connect(errno_text(errno));
    }
    const int err =
        connect_by(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr, deadline);
    if (err != 0) {
        fail_connect(err == ETIMEDOUT ? std::string("Connection timed out") : errno_text(err));
    }
    return fd;
}

void SocketTransport::write_all(std::string_view data, Deadline deadline) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_ready(fd_.get(), POLLOUT, deadline)) {
                throw RedisError(fmt::format("write to {} timed out", peer_));
            }
            continue;
        }
        throw RedisError(fmt::format("write to {} failed: {}", peer_, errno_text(errno)));
    }
}

std::size_t SocketTransport::read_some(char* buf, std::size_t size, Deadline deadline) {
    while (true) {
        const ssize_t n = ::recv(fd_.get(), buf, size, 0);
        if (n > 0) {
            return static_cast<std::size_t>(n);
        }
        if (n == 0) {
            throw RedisError(fmt::format("{} closed the connection", peer_));
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            throw RedisError(fmt::format("read from {} failed: {}", peer_, errno_text(errno)));
        }
        if (!wait_ready(fd_.get(), POLLIN, deadline)) {
            throw RedisError(fmt::format("read from {} timed out", peer_));
        }
    }
}

}  // namespace tka
