// A minimal HTTP/1.1 client over raw loopback sockets for the tokend probes: start a
// connect (optionally from a chosen 127.0.0.0/8 source address, so that many connections
// do not all count against one client address), send a request, read one response framed
// by Content-Length, every step bounded by one absolute deadline. No library on purpose:
// the probes must measure the server, not a client stack.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "bench/bench_util.hpp"

namespace tka::bench::http {

using Deadline = Clock::time_point;

// Milliseconds left until `deadline` for poll(), at least 0.
inline int poll_ms(Deadline deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60000));
}

// 127.A.B.C as a host-order address: the loopback interface answers the whole /8.
inline std::uint32_t loopback_address(std::uint32_t index_in_8) {
    return (127U << 24) | (index_in_8 & 0x00ffffffU);
}

// A non-blocking TCP socket to 127.0.0.1:port whose connect has been started, bound first
// to `source` (host order) when it is not 0. Returns -1 when the socket, bind or connect
// fails at once.
inline int start_connect(int port, std::uint32_t source = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (source != 0) {
        // The port is chosen at connect time, per destination, not at bind time.
        ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_in from{};
        from.sin_family = AF_INET;
        from.sin_addr.s_addr = htonl(source);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
            ::close(fd);
            return -1;
        }
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// The outcome of a started connect once the socket is writable: 0 on success, else errno.
inline int connect_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        return errno;
    }
    return err;
}

inline bool wait_for(int fd, short events, Deadline deadline) {
    pollfd p{fd, events, 0};
    for (;;) {
        const int rc = ::poll(&p, 1, poll_ms(deadline));
        if (rc > 0) {
            return true;
        }
        if (rc == 0 || errno != EINTR) {
            return false;
        }
    }
}

inline bool finish_connect(int fd, Deadline deadline) {
    return wait_for(fd, POLLOUT, deadline) && connect_error(fd) == 0;
}

inline bool send_all(int fd, std::string_view data, Deadline deadline) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN && wait_for(fd, POLLOUT, deadline)) {
            continue;
        }
        return false;
    }
    return true;
}

// Closes with a reset: no TIME_WAIT left behind by the thousands of held connections.
inline void close_reset(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

struct Response {
    int status = 0;
    bool close = false;  // the server said Connection: close
    std::string body;
};

// The status code of a response head ("HTTP/1.1 200 OK..."), 0 when it is not one.
inline int status_of(std::string_view head) {
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") {
        return 0;
    }
    return std::atoi(std::string(head.substr(9, 3)).c_str());
}

namespace detail {

// Value of a header field in a lower-cased head, "" when absent.
inline std::string field(const std::string& lower_head, const std::string& name) {
    const auto at = lower_head.find("\r\n" + name + ":");
    if (at == std::string::npos) {
        return {};
    }
    auto begin = at + name.size() + 3;
    const auto end = lower_head.find("\r\n", begin);
    while (begin < end && lower_head[begin] == ' ') {
        ++begin;
    }
    return lower_head.substr(begin, end - begin);
}

}  // namespace detail

// Reads one response: the head up to the blank line, then Content-Length bytes of body
// (no chunked bodies: tokend and the trivial server always send a length). nullopt on a
// closed connection, an error or the deadline.
inline std::optional<Response> read_response(int fd, Deadline deadline) {
    std::string data;
    char buf[4096];
    std::size_t head_end = std::string::npos;
    std::size_t want = 0;
    Response r;
    for (;;) {
        if (head_end == std::string::npos) {
            head_end = data.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                std::string lower = data.substr(0, head_end + 2);
                for (char& c : lower) {
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                }
                r.status = status_of(data);
                r.close = detail::field(lower, "connection") == "close";
                want = head_end + 4 +
                       static_cast<std::size_t>(std::strtoull(
                           detail::field(lower, "content-length").c_str(), nullptr, 10));
            }
        }
        if (head_end != std::string::npos && data.size() >= want) {
            r.body = data.substr(head_end + 4, want - head_end - 4);
            return r;
        }
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            data.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN && wait_for(fd, POLLIN, deadline)) {
            continue;
        }
        return std::nullopt;
    }
}

}  // namespace tka::bench::http
