// Opening thousands of MQTT connections from one thread: non-blocking connect, CONNECT and
// CONNACK driven by poll(), with a bounded number of handshakes in flight so the broker's
// listen backlog never overflows. Used by the expiry and memory probes, which then hold
// the established sockets open.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/mqtt_wire.hpp"

namespace tka::bench {

struct HeldConnection {
    int fd = -1;
    std::size_t credential = 0;  // index into the credential list (or the sequence number)
};

struct MassConnectResult {
    std::vector<HeldConnection> held;  // CONNACK 0, socket open (blocking mode restored off)
    std::uint64_t refused = 0;         // CONNACK != 0
    std::uint64_t errors = 0;          // socket error, closed or timed out before CONNACK
    double seconds = 0;
};

// Connects `count` clients (credential i for client i when `creds` is non-empty, else
// anonymous) to 127.0.0.1:port, keep-alive 0 so idle sockets need no PINGREQ.
inline MassConnectResult mass_connect(int port, const std::vector<Credential>& creds,
                                      std::size_t count, const std::string& id_prefix,
                                      std::size_t in_flight = 64,
                                      std::chrono::seconds timeout = std::chrono::seconds(60)) {
    struct Pending {
        int fd;
        std::size_t index;
        bool sent = false;
        mqtt::PacketSplitter splitter;
    };
    MassConnectResult result;
    std::vector<Pending> pending;
    std::size_t next = 0;
    const auto start = Clock::now();
    while ((next < count || !pending.empty()) && Clock::now() - start < timeout) {
        while (next < count && pending.size() < in_flight) {
            const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                ++result.errors;
                ++next;
                continue;
            }
            mqtt::set_nodelay(fd);
            sockaddr_in addr = mqtt::loopback(port);
            const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
            if (rc != 0 && errno != EINPROGRESS) {
                ::close(fd);
                ++result.errors;
                ++next;
                continue;
            }
            pending.push_back(Pending{fd, next, false, {}});
            ++next;
        }
        std::vector<pollfd> fds;
        for (const auto& p : pending) {
            fds.push_back({p.fd, static_cast<short>(p.sent ? POLLIN : POLLOUT), 0});
        }
        if (poll(fds.data(), fds.size(), 100) <= 0) {
            continue;
        }
        std::vector<Pending> still;
        for (std::size_t i = 0; i < pending.size(); ++i) {
            Pending& p = pending[i];
            const short ev = fds[i].revents;
            bool done = false;
            bool ok = false;
            int code = -1;
            if (ev == 0) {
                still.push_back(std::move(p));
                continue;
            }
            if (!p.sent) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                std::optional<std::string> user;
                std::optional<std::string> pass;
                if (!creds.empty()) {
                    user = creds[p.index].username;
                    pass = creds[p.index].password;
                }
                const std::string id = id_prefix + std::to_string(p.index);
                if (err != 0 || !mqtt::write_all(p.fd, mqtt::connect_packet(id, user, pass, 0))) {
                    done = true;
                } else {
                    p.sent = true;
                }
            } else {
                char buf[256];
                const ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
                if (n <= 0) {
                    done = !(n < 0 && (errno == EAGAIN || errno == EINTR));
                } else {
                    p.splitter.feed(buf, static_cast<std::size_t>(n));
                    if (auto packet = p.splitter.next()) {
                        done = true;
                        code = mqtt::connack_code(*packet);
                        ok = code == 0;
                    }
                }
            }
            if (!done) {
                still.push_back(std::move(p));
            } else if (ok) {
                result.held.push_back({p.fd, p.index});
            } else {
                ++(code > 0 ? result.refused : result.errors);
                ::close(p.fd);
            }
        }
        pending = std::move(still);
    }
    for (auto& p : pending) {
        ::close(p.fd);
        ++result.errors;
    }
    result.errors += count - next;
    result.seconds = seconds_since(start);
    return result;
}

// Sends DISCONNECT on and closes every held connection.
inline void release_all(std::vector<HeldConnection>& held) {
    for (auto& h : held) {
        mqtt::write_all(h.fd, mqtt::disconnect_packet());
        ::close(h.fd);
    }
    held.clear();
}

}  // namespace tka::bench
