// MQTT 3.1.1 over raw loopback sockets, just enough for the benchmarks: CONNECT, CONNACK,
// SUBSCRIBE/SUBACK, QoS 0 PUBLISH and DISCONNECT, an incremental packet splitter for
// non-blocking readers, and blocking helpers with timeouts for the simple clients.
// No library on purpose: the load generators must cost the machine as little as possible.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tka::bench::mqtt {

enum PacketType : std::uint8_t {
    kConnect = 1,
    kConnack = 2,
    kPublish = 3,
    kSubscribe = 8,
    kSuback = 9,
    kPingreq = 12,
    kPingresp = 13,
    kDisconnect = 14,
};

inline void put_u16(std::string& out, std::size_t v) {
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

inline void put_str(std::string& out, std::string_view s) {
    put_u16(out, s.size());
    out.append(s);
}

// Fixed header (type/flags byte + remaining length) in front of `body`.
inline std::string frame(std::uint8_t first_byte, const std::string& body) {
    std::string out;
    out.push_back(static_cast<char>(first_byte));
    std::size_t len = body.size();
    do {
        std::uint8_t digit = static_cast<std::uint8_t>(len % 128);
        len /= 128;
        if (len > 0) {
            digit |= 0x80;
        }
        out.push_back(static_cast<char>(digit));
    } while (len > 0);
    out += body;
    return out;
}

// Clean session CONNECT; username/password left out when nullopt.
inline std::string connect_packet(std::string_view client_id,
                                  const std::optional<std::string>& username,
                                  const std::optional<std::string>& password,
                                  int keepalive_s = 60) {
    std::string body;
    put_str(body, "MQTT");
    body.push_back(4);  // protocol level 3.1.1
    std::uint8_t flags = 0x02;
    if (username) {
        flags |= 0x80;
    }
    if (username && password) {
        flags |= 0x40;
    }
    body.push_back(static_cast<char>(flags));
    put_u16(body, static_cast<std::size_t>(keepalive_s));
    put_str(body, client_id);
    if (username) {
        put_str(body, *username);
    }
    if (username && password) {
        put_str(body, *password);
    }
    return frame(kConnect << 4, body);
}

inline std::string disconnect_packet() {
    return frame(kDisconnect << 4, {});
}

inline std::string subscribe_packet(std::uint16_t packet_id, std::string_view filter, int qos) {
    std::string body;
    put_u16(body, packet_id);
    put_str(body, filter);
    body.push_back(static_cast<char>(qos));
    return frame((kSubscribe << 4) | 0x02, body);
}

inline std::string publish_qos0_packet(std::string_view topic, std::string_view payload) {
    std::string body;
    put_str(body, topic);
    body.append(payload);
    return frame(kPublish << 4, body);
}

struct Packet {
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::string body;
};

// Splits a byte stream into packets: feed() bytes as they arrive, next() until nullopt.
class PacketSplitter {
  public:
    void feed(const char* data, std::size_t n) { buffer_.append(data, n); }
    std::optional<Packet> next() {
        if (buffer_.size() < 2) {
            return std::nullopt;
        }
        std::size_t len = 0;
        std::size_t multiplier = 1;
        std::size_t pos = 1;
        while (true) {
            if (pos >= buffer_.size() || pos > 4) {
                return std::nullopt;
            }
            const auto digit = static_cast<std::uint8_t>(buffer_[pos++]);
            len += (digit & 0x7f) * multiplier;
            multiplier *= 128;
            if ((digit & 0x80) == 0) {
                break;
            }
        }
        if (buffer_.size() < pos + len) {
            return std::nullopt;
        }
        Packet p;
        const auto first = static_cast<std::uint8_t>(buffer_[0]);
        p.type = static_cast<std::uint8_t>(first >> 4);
        p.flags = static_cast<std::uint8_t>(first & 0x0f);
        p.body = buffer_.substr(pos, len);
        buffer_.erase(0, pos + len);
        return p;
    }

  private:
    std::string buffer_;
};

// Topic and payload of a QoS 0 PUBLISH body.
inline bool parse_publish_qos0(const Packet& p, std::string_view& topic,
                               std::string_view& payload) {
    if (p.body.size() < 2) {
        return false;
    }
    const std::size_t tlen = (static_cast<std::size_t>(static_cast<std::uint8_t>(p.body[0])) << 8) |
                             static_cast<std::uint8_t>(p.body[1]);
    if (p.body.size() < 2 + tlen) {
        return false;
    }
    std::string_view all(p.body);
    topic = all.substr(2, tlen);
    payload = all.substr(2 + tlen);
    return true;
}

inline sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

inline void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

inline void set_nonblocking(int fd) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Blocking TCP connect to 127.0.0.1:port with send/receive timeouts; -1 on failure.
inline int connect_blocking(int port, std::chrono::milliseconds timeout) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    set_nodelay(fd);
    sockaddr_in addr = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads one packet from a blocking socket (SO_RCVTIMEO bounds each read); nullopt on
// close, error or timeout.
inline std::optional<Packet> read_packet(int fd, PacketSplitter& splitter) {
    while (true) {
        if (auto p = splitter.next()) {
            return p;
        }
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return std::nullopt;
        }
        splitter.feed(buf, static_cast<std::size_t>(n));
    }
}

// CONNACK return code, or -1 when the packet is not a well-formed CONNACK.
inline int connack_code(const Packet& p) {
    if (p.type != kConnack || p.body.size() != 2) {
        return -1;
    }
    return static_cast<std::uint8_t>(p.body[1]);
}

}  // namespace tka::bench::mqtt
