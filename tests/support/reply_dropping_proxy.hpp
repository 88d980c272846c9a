// A loopback TCP proxy in front of a redis-server that makes replies go missing: Redis still
// executes what a client sends, but the client never sees the answer and times out. That is
// the failure a client cannot tell from "never executed" (an answer lost on the way, a Redis
// stalled past the client's timeout after it ran the command), and the one a retried
// refresh must survive. A stalled Redis (DEBUG SLEEP) cannot aim it at one chosen command:
// it holds back every command, so a refresh would time out on its first read, before its
// script was ever sent. The proxy picks the connection by what it sends (e.g. a password
// digest that only the refresh script carries) and drops every reply from then on.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace tka::test {

class ReplyDroppingProxy {
  public:
    // Listens on 127.0.0.1 (a port the kernel picks) and forwards every connection to
    // 127.0.0.1:<upstream_port>, both ways, until the destructor.
    explicit ReplyDroppingProxy(int upstream_port);
    ~ReplyDroppingProxy();
    ReplyDroppingProxy(const ReplyDroppingProxy&) = delete;
    ReplyDroppingProxy& operator=(const ReplyDroppingProxy&) = delete;

    int port() const { return port_; }
    std::string url() const;  // redis://127.0.0.1:<port>

    // The next connection to send `marker` after this call (it may span reads) still has
    // everything it sends forwarded to Redis, but gets no reply from then on: Redis's
    // answers, that one's included, are read and dropped. Bytes sent before this call do
    // not count. One connection only; arm again for another.
    void drop_replies_after(std::string marker);
    // Everything dropped so far, as Redis sent it (RESP), to assert what the client missed.
    std::string dropped() const;

  private:
    struct Link;
    // A marker is found across reads if it is no longer than this.
    static constexpr std::size_t kTailBytes = 4096;
    void run();
    void watch_for_marker(Link& link, std::string_view sent);

    int upstream_port_;
    int listener_ = -1;
    int port_ = 0;
    int wake_[2] = {-1, -1};  // a pipe: the destructor writes to stop run()
    mutable std::mutex mutex_;
    std::string marker_;       // "" when not armed
    unsigned generation_ = 0;  // how many times it was armed
    std::string dropped_;      // replies withheld so far
    std::thread thread_;
};

}  // namespace tka::test
