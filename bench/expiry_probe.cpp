// expiry_probe: how late does the broker close connections whose tokens expire together,
// and what does the broker's periodic work cost? Opens every credential of the file (all
// minted to expire in the same second) from one poll() thread, then waits for the broker to
// close each socket and records close time - expires_at. Meanwhile it samples the CPU time
// of the broker thread (/proc/<pid>/schedstat) to report its idle cost while the plugin tracks
// the connections (ticks) and the extra CPU spent around the expiry (per kicked connection).
//
//   expiry_probe --port P --creds FILE --broker-pid PID [--grace-s 10]
//
// Prints one line: connected= refused= errors= closed= open_after= p50_ms= p99_ms= max_ms=
// idle_cpu_pct= expiry_cpu_ms= per_kick_us= connect_s=.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <poll.h>
#include <unistd.h>

#include "bench/bench_util.hpp"
#include "bench/mass_connect.hpp"

int main(int argc, char** argv) try {
    using namespace tka::bench;
    const Args args(argc, argv);
    const int port = static_cast<int>(std::stol(args.require("port")));
    const long pid = std::stol(args.require("broker-pid"));
    const double grace = args.real("grace-s", 10);
    const auto creds = read_credentials(args.require("creds"));
    if (creds.empty()) {
        throw std::runtime_error("no credentials");
    }
    double expires_min = creds.front().expires_at;
    double expires_max = expires_min;
    for (const auto& c : creds) {
        expires_min = std::min(expires_min, c.expires_at);
        expires_max = std::max(expires_max, c.expires_at);
    }

    auto opened = mass_connect(port, creds, creds.size(), "exp-" + std::to_string(getpid()) + "-");
    if (unix_now() >= expires_min - 0.5) {
        throw std::runtime_error("connecting took too long: tokens (nearly) expired already");
    }

    struct Sample {
        double t;
        double cpu;
    };
    std::vector<Sample> samples;
    std::vector<pollfd> fds;
    for (const auto& h : opened.held) {
        fds.push_back({h.fd, POLLIN, 0});
    }
    std::vector<double> delays_ms;
    std::size_t open = fds.size();
    double last_close = 0;
    double next_sample = 0;
    const double deadline = expires_max + grace;
    while (unix_now() < deadline) {
        const double now = unix_now();
        if (now >= next_sample) {
            samples.push_back({now, main_thread_cpu_seconds(pid)});
            next_sample = now + 0.05;
        }
        if (open == 0 && now > last_close + 0.5) {
            break;
        }
        if (poll(fds.data(), fds.size(), 10) <= 0) {
            continue;
        }
        const double at = unix_now();
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char buf[512];
            const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0 || (n < 0 && errno == EAGAIN)) {
                continue;  // unexpected data (none is sent to idle clients): keep waiting
            }
            delays_ms.push_back((at - creds[opened.held[i].credential].expires_at) * 1000.0);
            ::close(fds[i].fd);
            fds[i].fd = -1;
            --open;
            last_close = at;
        }
    }
    samples.push_back({unix_now(), main_thread_cpu_seconds(pid)});

    // CPU before the expiry (steady state while the plugin tracks the connections) and in
    // the window from 0.2 s before the first expiry to 0.3 s after the last close.
    auto cpu_at = [&](double t) {
        const Sample* best = &samples.front();
        for (const auto& s : samples) {
            if (s.t <= t) {
                best = &s;
            }
        }
        return *best;
    };
    const Sample idle_a = samples.front();
    const Sample idle_b = cpu_at(expires_min - 0.2);
    const double idle_rate =
        idle_b.t > idle_a.t ? (idle_b.cpu - idle_a.cpu) / (idle_b.t - idle_a.t) : 0;
    const Sample burst_a = idle_b;
    const Sample burst_b = cpu_at(std::max(last_close, expires_max) + 0.3);
    const double burst_cpu = burst_b.cpu - burst_a.cpu;
    const double burst_extra = burst_cpu - idle_rate * (burst_b.t - burst_a.t);
    const std::size_t closed = delays_ms.size();
    for (auto& pfd : fds) {
        if (pfd.fd >= 0) {
            ::close(pfd.fd);
        }
    }
    ResultLine()
        .add("connected", static_cast<std::uint64_t>(opened.held.size()))
        .add("refused", opened.refused)
        .add("errors", opened.errors)
        .add("closed", static_cast<std::uint64_t>(closed))
        .add("open_after", static_cast<std::uint64_t>(open))
        .add("p50_ms", percentile(delays_ms, 50), 1)
        .add("p99_ms", percentile(delays_ms, 99), 1)
        .add("max_ms", percentile(delays_ms, 100), 1)
        .add("idle_cpu_pct", idle_rate * 100.0, 2)
        .add("idle_window_s", idle_b.t - idle_a.t, 2)
        .add("expiry_cpu_ms", burst_cpu * 1000.0, 1)
        .add("per_kick_us", closed > 0 ? burst_extra * 1e6 / static_cast<double>(closed) : 0, 1)
        .add("connect_s", opened.seconds, 2)
        .print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "expiry_probe: %s\n", e.what());
    return 2;
}
