// ReplyDroppingProxy: one thread, poll() over the listener, a wake pipe and both sockets of
// every forwarded connection. Requests are checked for the armed marker before they are
// forwarded, so every reply to a request that carries it is dropped.
#include "tests/support/reply_dropping_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace tka::test {
namespace {

sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("reply dropping proxy: ")
                                 .append(what)
                                 .append(": ")
                                 .append(std::strerror(errno)));
}

bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

// One forwarded connection.
struct ReplyDroppingProxy::Link {
    int client = -1;
    int upstream = -1;
    std::string tail;         // the last bytes the client sent since the proxy was last armed, so
                              // a marker split across reads matches
    unsigned generation = 0;  // the arming `tail` belongs to
    bool dropping = false;
    bool closed = false;
    ~Link() {
        if (client >= 0) {
            ::close(client);
        }
        if (upstream >= 0) {
            ::close(upstream);
        }
    }
};

ReplyDroppingProxy::ReplyDroppingProxy(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) {
        fail("socket");
    }
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(listener_);
        fail("listen");
    }
    port_ = ntohs(addr.sin_port);
    if (::pipe2(wake_, O_CLOEXEC) != 0) {
        ::close(listener_);
        fail("pipe");
    }
    thread_ = std::thread([this] { run(); });
}

ReplyDroppingProxy::~ReplyDroppingProxy() {
    const char stop = 'x';
    (void)!::write(wake_[1], &stop, 1);
    thread_.join();
    ::close(wake_[0]);
    ::close(wake_[1]);
    ::close(listener_);
}

std::string ReplyDroppingProxy::url() const {
    return "redis://127.0.0.1:" + std::to_string(port_);
}

void ReplyDroppingProxy::drop_replies_after(std::string marker) {
    std::lock_guard<std::mutex> lock(mutex_);
    marker_ = std::move(marker);
    ++generation_;
}

std::string ReplyDroppingProxy::dropped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return dropped_;
}

void ReplyDroppingProxy::watch_for_marker(Link& link, std::string_view sent) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (link.generation != generation_) {  // armed since: what came before does not count
        link.tail.clear();
        link.generation = generation_;
    }
    link.tail.append(sent);
    if (!marker_.empty() && !link.dropping && link.tail.find(marker_) != std::string::npos) {
        link.dropping = true;
        marker_.clear();
    }
    if (link.tail.size() > kTailBytes) {
        link.tail.erase(0, link.tail.size() - kTailBytes);
    }
}

void ReplyDroppingProxy::run() {
    std::list<Link> links;
    std::vector<char> buf(64 * 1024);
    for (;;) {
        std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
        for (const Link& l : links) {
            fds.push_back({l.client, POLLIN, 0});
            fds.push_back({l.upstream, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[0].revents != 0) {
            return;
        }
        if (fds[1].revents & POLLIN) {
            Link& l = links.emplace_back();
            l.client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            l.upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const sockaddr_in to = loopback(upstream_port_);
            l.closed =
                l.client < 0 || l.upstream < 0 ||
                ::connect(l.upstream, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0;
        }
        std::size_t i = 2;
        for (Link& l : links) {
            if (i >= fds.size()) {
                break;  // accepted in this round: polled from the next one
            }
            const short from_client = fds[i++].revents;
            const short from_upstream = fds[i++].revents;
            if (!l.closed && from_client != 0) {
                const ssize_t n = ::recv(l.client, buf.data(), buf.size(), 0);
                if (n <= 0) {
                    l.closed = true;
                } else {
                    const auto size = static_cast<std::size_t>(n);
                    watch_for_marker(l, std::string_view(buf.data(), size));
                    l.closed = !send_all(l.upstream, buf.data(), size);
                }
            }
            if (!l.closed && from_upstream != 0) {
                const ssize_t n = ::recv(l.upstream, buf.data(), buf.size(), 0);
                if (n <= 0) {
                    l.closed = true;
                } else if (l.dropping) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    dropped_.append(buf.data(), static_cast<std::size_t>(n));
                } else {
                    l.closed = !send_all(l.client, buf.data(), static_cast<std::size_t>(n));
                }
            }
        }
        links.remove_if([](const Link& l) { return l.closed; });
    }
}

}  // namespace tka::test
