// mqtt_connect_load: MQTT connect-rate load generator. Each of N threads repeatedly opens a
// TCP connection to 127.0.0.1:PORT, sends CONNECT (clean session, unique client id), reads
// the CONNACK, sends DISCONNECT, waits for the broker to close, closes, and times
// CONNECT start -> CONNACK.
//
//   mqtt_connect_load --port P [--creds FILE] [--threads 4] [--mode cold|warm]
//                     [--count N] [--duration S] [--timeout-ms 5000] [--max-seconds 60]
//                     [--prime 0] [--broker-pid PID] [--rate R]
//
// cold: every credential of FILE is used exactly once (the token's first connect), split
//       across threads; --count caps how many (default: all; anonymous: 5000).
// warm: one untimed pass over every credential first (so a cache has seen them; --prime 0
//       skips it), then the threads cycle through their credentials for --duration seconds
//       (or --count).
// --rate: pace the load to R connects per second in total (spread over the threads; a thread
// that falls behind does not burst to catch up); default: as fast as possible.
// Prints one line: mode= threads= attempts= seconds= rate= ok= refused= errors= p50_us=
// p99_us= slow= max_cycle_ms= p50_cycle_us= [broker_cpu_us=] (rate: accepted connects per second;
// broker_cpu_us: CPU time of the broker thread per accepted connect; p50_cycle_us: median whole
// cycle, connect to close, whose inverse is a rate that a busy machine disturbs far less than the
// measured one; slow: whole cycles over 100 ms, from /proc/PID/schedstat, which the machine's other
// load disturbs far less than the rate). Exit status 0 even with refusals: the caller decides
// (bench.sh flags any refusal or error).
#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench/bench_util.hpp"
#include "bench/mqtt_wire.hpp"

namespace {

using namespace tka::bench;

enum class Outcome { ok, refused, error };

struct ThreadResult {
    std::vector<double> latencies_us;
    std::vector<double> cycles_us;  // whole cycles of accepted connects
    std::uint64_t ok = 0;
    std::uint64_t refused = 0;
    std::uint64_t errors = 0;
    std::uint64_t slow = 0;  // cycles longer than 100 ms (SYN retransmits, stalls)
    double max_cycle_us = 0;
};

// latency_us: TCP connect start -> CONNACK; cycle_us: the whole cycle up to close().
Outcome connect_once(int port, const std::string& client_id, const Credential* cred,
                     std::chrono::milliseconds timeout, double& latency_us, double& cycle_us) {
    const auto start = Clock::now();
    const int fd = mqtt::connect_blocking(port, timeout);
    if (fd < 0) {
        return Outcome::error;
    }
    std::optional<std::string> user;
    std::optional<std::string> pass;
    if (cred != nullptr) {
        user = cred->username;
        pass = cred->password;
    }
    Outcome outcome = Outcome::error;
    mqtt::PacketSplitter splitter;
    if (mqtt::write_all(fd, mqtt::connect_packet(client_id, user, pass))) {
        if (auto p = mqtt::read_packet(fd, splitter)) {
            const int code = mqtt::connack_code(*p);
            latency_us = seconds_since(start) * 1e6;
            outcome = code == 0 ? Outcome::ok : (code > 0 ? Outcome::refused : Outcome::error);
            if (outcome == Outcome::ok && mqtt::write_all(fd, mqtt::disconnect_packet())) {
                // Let the broker close first: the TIME_WAIT state then stays on its side
                // and this client's ephemeral ports never run short over long runs.
                char sink[64];
                while (::recv(fd, sink, sizeof sink, 0) > 0) {
                }
            }
        }
    }
    ::close(fd);
    cycle_us = seconds_since(start) * 1e6;
    return outcome;
}

void record(ThreadResult& r, Outcome o, double latency_us) {
    switch (o) {
        case Outcome::ok:
            ++r.ok;
            r.latencies_us.push_back(latency_us);
            break;
        case Outcome::refused:
            ++r.refused;
            break;
        case Outcome::error:
            ++r.errors;
            break;
    }
}

}  // namespace

int main(int argc, char** argv) try {
    const Args args(argc, argv);
    const int port = static_cast<int>(std::stol(args.require("port")));
    const int threads = static_cast<int>(args.num("threads", 4));
    const std::string mode = args.str("mode", "warm");
    const auto timeout = std::chrono::milliseconds(args.num("timeout-ms", 5000));
    const double max_seconds = args.real("max-seconds", 60);
    std::vector<Credential> creds;
    if (args.has("creds")) {
        creds = read_credentials(args.require("creds"));
    }
    const bool anonymous = creds.empty();
    if (mode != "cold" && mode != "warm") {
        throw std::runtime_error("--mode must be cold or warm");
    }
    const bool cold = mode == "cold";
    long count = args.num("count", 0);
    const double duration = args.real("duration", cold ? 0 : 5);
    if (cold && count == 0) {
        count = anonymous ? 5000 : static_cast<long>(creds.size());
    }
    if (cold && !anonymous && count > static_cast<long>(creds.size())) {
        throw std::runtime_error("cold mode: --count exceeds the credentials in the file");
    }
    const std::string id_prefix = "ld-" + std::to_string(getpid()) + "-";

    // Warm: one untimed pass over every credential first (unless --prime 0).
    if (!cold && !anonymous && args.num("prime", 1) != 0) {
        std::vector<std::thread> primers;
        for (int t = 0; t < threads; ++t) {
            primers.emplace_back([&, t] {
                double ignored = 0;
                double ignored_cycle = 0;
                for (std::size_t i = static_cast<std::size_t>(t); i < creds.size();
                     i += static_cast<std::size_t>(threads)) {
                    connect_once(port, id_prefix + "p" + std::to_string(i), &creds[i], timeout,
                                 ignored, ignored_cycle);
                }
            });
        }
        for (auto& th : primers) {
            th.join();
        }
    }

    const double target_rate = args.real("rate", 0);
    std::vector<ThreadResult> results(static_cast<std::size_t>(threads));
    std::atomic<long> next_index{0};
    const long broker_pid = args.num("broker-pid", 0);
    const double cpu_start = broker_pid > 0 ? main_thread_cpu_seconds(broker_pid) : 0;
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            ThreadResult& r = results[static_cast<std::size_t>(t)];
            r.latencies_us.reserve(200000);
            r.cycles_us.reserve(200000);
            std::size_t cursor = static_cast<std::size_t>(t);
            const auto pace = target_rate > 0
                                  ? std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(threads / target_rate))
                                  : Clock::duration::zero();
            auto next_start = Clock::now() + pace * t / threads;
            for (std::uint64_t seq = 0;; ++seq) {
                if (target_rate > 0) {
                    std::this_thread::sleep_until(next_start);
                    next_start = std::max(next_start + pace, Clock::now());
                }
                const double elapsed = seconds_since(start);
                if (elapsed > max_seconds) {
                    break;
                }
                long index = -1;
                if (count > 0) {
                    index = next_index.fetch_add(1);
                    if (index >= count) {
                        break;
                    }
                } else if (elapsed >= duration) {
                    break;
                }
                const Credential* cred = nullptr;
                if (!anonymous) {
                    if (cold) {
                        cred = &creds[static_cast<std::size_t>(index)];
                    } else {
                        cred = &creds[cursor % creds.size()];
                        cursor += static_cast<std::size_t>(threads);
                    }
                }
                double latency = 0;
                const std::string client_id =
                    id_prefix + std::to_string(t) + "-" + std::to_string(seq);
                double cycle = 0;
                const Outcome outcome =
                    connect_once(port, client_id, cred, timeout, latency, cycle);
                r.max_cycle_us = std::max(r.max_cycle_us, cycle);
                if (outcome == Outcome::ok) {
                    r.cycles_us.push_back(cycle);
                }
                if (cycle > 100000) {
                    ++r.slow;
                }
                record(r, outcome, latency);
            }
        });
    }
    for (auto& th : workers) {
        th.join();
    }
    const double elapsed = seconds_since(start);
    const double cpu_used = broker_pid > 0 ? main_thread_cpu_seconds(broker_pid) - cpu_start : 0;

    ThreadResult total;
    for (auto& r : results) {
        total.ok += r.ok;
        total.refused += r.refused;
        total.errors += r.errors;
        total.slow += r.slow;
        total.max_cycle_us = std::max(total.max_cycle_us, r.max_cycle_us);
        total.latencies_us.insert(total.latencies_us.end(), r.latencies_us.begin(),
                                  r.latencies_us.end());
        total.cycles_us.insert(total.cycles_us.end(), r.cycles_us.begin(), r.cycles_us.end());
    }
    ResultLine()
        .add("mode", mode)
        .add("threads", static_cast<std::uint64_t>(threads))
        .add("attempts", total.ok + total.refused + total.errors)
        .add("seconds", elapsed, 3)
        .add("rate", static_cast<double>(total.ok) / elapsed, 1)
        .add("ok", total.ok)
        .add("refused", total.refused)
        .add("errors", total.errors)
        .add("p50_us", percentile(total.latencies_us, 50), 1)
        .add("p99_us", percentile(total.latencies_us, 99), 1)
        .add("slow", total.slow)
        .add("max_cycle_ms", total.max_cycle_us / 1000.0, 1)
        .add("p50_cycle_us", percentile(total.cycles_us, 50), 1)
        .add("broker_cpu_us", total.ok > 0 ? cpu_used * 1e6 / static_cast<double>(total.ok) : 0, 1)
        .print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "mqtt_connect_load: %s\n", e.what());
    return 2;
}
