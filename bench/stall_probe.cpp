// stall_probe: how long already connected clients wait for their messages while the broker
// is busy with something else (e.g. other clients connecting through a slow auth plugin).
// P publisher/subscriber pairs stay connected; every publisher sends a QoS 0 message
// carrying its send time R times a second to its own topic, and the subscriber side
// records publish -> deliver latency. One thread, poll() on the subscriber sockets.
//
//   stall_probe --port P [--pairs 4] [--rate 200] [--duration 5] [--creds FILE]
//
// --creds: at least 2*pairs credentials (anonymous otherwise). Prints one line:
// sent= received= lost= p50_us= p99_us= max_us=.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <unistd.h>

#include "bench/bench_util.hpp"
#include "bench/mqtt_wire.hpp"

namespace {

using namespace tka::bench;

int open_client(int port, const std::string& client_id, const Credential* cred) {
    const int fd = mqtt::connect_blocking(port, std::chrono::milliseconds(5000));
    if (fd < 0) {
        throw std::runtime_error("cannot connect to the broker");
    }
    std::optional<std::string> user;
    std::optional<std::string> pass;
    if (cred != nullptr) {
        user = cred->username;
        pass = cred->password;
    }
    mqtt::PacketSplitter splitter;
    if (!mqtt::write_all(fd, mqtt::connect_packet(client_id, user, pass, 0))) {
        throw std::runtime_error("CONNECT failed");
    }
    auto p = mqtt::read_packet(fd, splitter);
    if (!p || mqtt::connack_code(*p) != 0) {
        throw std::runtime_error("CONNECT refused for " + client_id);
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv) try {
    const Args args(argc, argv);
    const int port = static_cast<int>(std::stol(args.require("port")));
    const int pairs = static_cast<int>(args.num("pairs", 4));
    const double rate = args.real("rate", 200);
    const double duration = args.real("duration", 5);
    std::vector<Credential> creds;
    if (args.has("creds")) {
        creds = read_credentials(args.require("creds"));
        if (creds.size() < static_cast<std::size_t>(2 * pairs)) {
            throw std::runtime_error("--creds needs 2 x pairs credentials");
        }
    }
    auto cred = [&](int i) {
        return creds.empty() ? nullptr : &creds[static_cast<std::size_t>(i)];
    };
    const std::string prefix = "stall-" + std::to_string(getpid()) + "-";

    std::vector<int> subs;
    std::vector<int> pubs;
    std::vector<std::string> topics;
    for (int i = 0; i < pairs; ++i) {
        // Token clients may only use their organization's namespace (orgs/<org_id>/...).
        std::string topic;
        if (const Credential* c = cred(2 * i)) {
            topic.append("orgs/");
            topic.append(c->username.substr(c->username.find('@') + 1));
            topic.append("/");
        }
        topic.append("bench/stall/");
        topic.append(std::to_string(getpid()));
        topic.append("/");
        topic.append(std::to_string(i));
        topics.push_back(topic);
        const int sub = open_client(port, prefix + "s" + std::to_string(i), cred(2 * i));
        mqtt::PacketSplitter splitter;
        mqtt::write_all(sub, mqtt::subscribe_packet(1, topics.back(), 0));
        auto ack = mqtt::read_packet(sub, splitter);
        if (!ack || ack->type != mqtt::kSuback || ack->body.size() != 3 ||
            static_cast<std::uint8_t>(ack->body[2]) >= 0x80) {
            throw std::runtime_error("SUBSCRIBE refused");
        }
        mqtt::set_nonblocking(sub);
        subs.push_back(sub);
        pubs.push_back(open_client(port, prefix + "p" + std::to_string(i), cred(2 * i + 1)));
    }

    std::vector<mqtt::PacketSplitter> splitters(subs.size());
    std::vector<pollfd> fds;
    for (int fd : subs) {
        fds.push_back({fd, POLLIN, 0});
    }
    std::vector<double> latencies_us;
    std::uint64_t sent = 0;
    const auto interval =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
    const auto start = Clock::now();
    const auto stop_sending = start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(duration));
    const auto stop_receiving = stop_sending + std::chrono::seconds(2);
    auto next_send = start;
    while (true) {
        const auto now = Clock::now();
        if (now >= stop_receiving || (now >= stop_sending && latencies_us.size() >= sent)) {
            break;
        }
        if (now >= next_send && now < stop_sending) {
            const auto stamp = std::to_string(now.time_since_epoch().count());
            for (std::size_t i = 0; i < pubs.size(); ++i) {
                if (mqtt::write_all(pubs[i], mqtt::publish_qos0_packet(topics[i], stamp))) {
                    ++sent;
                }
            }
            next_send += interval;
            if (next_send < now) {
                next_send = now + interval;  // do not burst after a stall of our own
            }
        }
        const auto wait_until = now < stop_sending ? next_send : stop_receiving;
        const auto wait = std::max(Clock::duration::zero(), wait_until - Clock::now());
        timespec ts{};
        ts.tv_sec =
            static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(wait).count());
        ts.tv_nsec = static_cast<long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(wait % std::chrono::seconds(1))
                .count());
        if (ppoll(fds.data(), fds.size(), &ts, nullptr) <= 0) {
            continue;
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            char buf[16384];
            const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
            if (n == 0) {
                throw std::runtime_error("the broker closed a subscriber");
            }
            if (n < 0) {
                continue;
            }
            const auto received_at = Clock::now();
            splitters[i].feed(buf, static_cast<std::size_t>(n));
            while (auto p = splitters[i].next()) {
                std::string_view topic;
                std::string_view payload;
                if (p->type != mqtt::kPublish || !mqtt::parse_publish_qos0(*p, topic, payload)) {
                    continue;
                }
                const Clock::time_point sent_at{
                    Clock::duration{std::strtoll(std::string(payload).c_str(), nullptr, 10)}};
                latencies_us.push_back(
                    std::chrono::duration<double, std::micro>(received_at - sent_at).count());
            }
        }
    }
    const std::uint64_t received = latencies_us.size();
    ResultLine()
        .add("sent", sent)
        .add("received", received)
        .add("lost", sent > received ? sent - received : 0)
        .add("p50_us", percentile(latencies_us, 50), 1)
        .add("p99_us", percentile(latencies_us, 99), 1)
        .add("max_us", percentile(latencies_us, 100), 1)
        .print();
    for (int fd : subs) {
        mqtt::write_all(fd, mqtt::disconnect_packet());
        ::close(fd);
    }
    for (int fd : pubs) {
        mqtt::write_all(fd, mqtt::disconnect_packet());
        ::close(fd);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "stall_probe: %s\n", e.what());
    return 2;
}
