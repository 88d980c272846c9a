// delay_proxy: a loopback TCP proxy that holds every client->server chunk for D ms before
// forwarding it (server->client is forwarded at once). In front of Redis this adds ~D ms
// to every request/reply round trip without limiting throughput: chunks are queued with
// their due time, so pipelined requests are each delayed D ms, not D ms one after another.
//
//   delay_proxy --listen PORT --upstream PORT [--delay-ms 2] [--max-seconds 3600]
//
// Listens on 127.0.0.1 only, connects to 127.0.0.1:upstream. Exits after --max-seconds.
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench_util.hpp"
#include "bench/mqtt_wire.hpp"

namespace {

using namespace tka::bench;

struct Chunk {
    Clock::time_point due;
    std::string data;
};

// One proxied connection: the two sockets and the queue of delayed client->server chunks.
struct Session {
    int client = -1;
    int server = -1;
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<Chunk> queue;
    bool reader_done = false;
    std::atomic<int> finished{0};

    void finish_one() {
        // The last of the three pumps closes both sockets.
        if (finished.fetch_add(1) == 2) {
            ::close(client);
            ::close(server);
        }
    }
};

void delayed_reader(std::shared_ptr<Session> s, std::chrono::milliseconds delay) {
    char buf[65536];
    while (true) {
        const ssize_t n = ::recv(s->client, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        std::lock_guard lock(s->mutex);
        s->queue.push_back({Clock::now() + delay, std::string(buf, static_cast<std::size_t>(n))});
        s->cv.notify_one();
    }
    {
        std::lock_guard lock(s->mutex);
        s->reader_done = true;
        s->cv.notify_one();
    }
    s->finish_one();
}

void delayed_writer(std::shared_ptr<Session> s) {
    while (true) {
        Chunk chunk;
        {
            std::unique_lock lock(s->mutex);
            s->cv.wait(lock, [&] { return !s->queue.empty() || s->reader_done; });
            if (s->queue.empty()) {
                break;
            }
            chunk = std::move(s->queue.front());
            s->queue.pop_front();
        }
        std::this_thread::sleep_until(chunk.due);
        if (!mqtt::write_all(s->server, chunk.data)) {
            break;
        }
    }
    ::shutdown(s->server, SHUT_WR);
    ::shutdown(s->client, SHUT_RD);
    s->finish_one();
}

void direct_pump(std::shared_ptr<Session> s) {
    char buf[65536];
    while (true) {
        const ssize_t n = ::recv(s->server, buf, sizeof buf, 0);
        if (n <= 0 ||
            !mqtt::write_all(s->client, std::string_view(buf, static_cast<std::size_t>(n)))) {
            break;
        }
    }
    ::shutdown(s->client, SHUT_RDWR);
    s->finish_one();
}

}  // namespace

int main(int argc, char** argv) try {
    const Args args(argc, argv);
    const int listen_port = static_cast<int>(std::stol(args.require("listen")));
    const int upstream_port = static_cast<int>(std::stol(args.require("upstream")));
    const auto delay = std::chrono::milliseconds(args.num("delay-ms", 2));
    const auto max_seconds = static_cast<unsigned>(args.num("max-seconds", 3600));
    std::signal(SIGPIPE, SIG_IGN);

    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = mqtt::loopback(listen_port);
    if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 128) != 0) {
        throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(listen_port));
    }
    std::thread([max_seconds] {
        std::this_thread::sleep_for(std::chrono::seconds(max_seconds));
        std::fprintf(stderr, "delay_proxy: --max-seconds reached, exiting\n");
        std::_Exit(0);
    }).detach();
    std::fprintf(stderr, "delay_proxy: 127.0.0.1:%d -> 127.0.0.1:%d, +%lld ms client->server\n",
                 listen_port, upstream_port, static_cast<long long>(delay.count()));

    while (true) {
        const int client = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) {
            continue;
        }
        const int server = mqtt::connect_blocking(upstream_port, std::chrono::milliseconds(0));
        if (server < 0) {
            ::close(client);
            continue;
        }
        mqtt::set_nodelay(client);
        auto s = std::make_shared<Session>();
        s->client = client;
        s->server = server;
        std::thread(delayed_reader, s, delay).detach();
        std::thread(delayed_writer, s).detach();
        std::thread(direct_pump, s).detach();
    }
} catch (const std::exception& e) {
    std::fprintf(stderr, "delay_proxy: %s\n", e.what());
    return 2;
}
