// auth_flood: a failed-auth flood against a broker, and what it costs Redis. One client,
// as fast as it can: open a TCP connection to 127.0.0.1:PORT, send a CONNECT with a real
// username (cycling through the usernames of FILE) and a random well-formed tkn_ password
// that no token has, read the CONNACK, close (after a DISCONNECT when it was accepted, as
// mqtt_connect_load does, so a bare broker's accepted cycle is comparable).
//
//   auth_flood --port P --creds FILE [--count 3000] [--redis-port R] [--idle-ms 2000]
//              [--broker-pid PID] [--timeout-ms 5000] [--max-seconds 120]
//
// --redis-port: the Redis the broker's plugin uses. Its commands are counted (the sum of
// INFO commandstats calls, the INFO calls themselves left out) over an idle window of
// --idle-ms before the flood, which gives the plugin's background rate (event reads,
// replica heartbeats), and over the flood; the flood's count minus that background rate
// times the flood's length is what the refused attempts cost.
// Prints one line: attempts= seconds= ok= refused= errors= rate= (answered CONNECTs per
// second) refused_rate= ok_rate= p50_us= p99_us= (CONNECT -> CONNACK) broker_cpu_us= (broker
// thread CPU per attempt) [redis_cmds= redis_background= redis_net= cmds_per_refused=].
// Exit status 0 even with errors: the caller decides.
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench/bench_util.hpp"
#include "bench/mqtt_wire.hpp"
#include "common/redis.hpp"
#include "common/redis_url.hpp"

namespace {

using namespace tka::bench;

enum class Outcome { ok, refused, error };

// A password of the token shape (tkn_ + 43 URL-safe characters) that no token has.
std::string random_password(std::mt19937_64& rng) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out = "tkn_";
    for (int i = 0; i < 43; ++i) {
        out += kAlphabet[rng() % 64];
    }
    return out;
}

Outcome attempt(int port, const std::string& client_id, const Credential& cred,
                std::chrono::milliseconds timeout, double& latency_us) {
    const auto start = Clock::now();
    const int fd = mqtt::connect_blocking(port, timeout);
    if (fd < 0) {
        return Outcome::error;
    }
    Outcome outcome = Outcome::error;
    mqtt::PacketSplitter splitter;
    if (mqtt::write_all(fd, mqtt::connect_packet(client_id, cred.username, cred.password))) {
        if (auto p = mqtt::read_packet(fd, splitter)) {
            const int code = mqtt::connack_code(*p);
            latency_us = seconds_since(start) * 1e6;
            outcome = code == 0 ? Outcome::ok : (code > 0 ? Outcome::refused : Outcome::error);
            if (outcome == Outcome::ok && mqtt::write_all(fd, mqtt::disconnect_packet())) {
                char sink[64];
                while (::recv(fd, sink, sizeof sink, 0) > 0) {
                }
            }
        }
    }
    ::close(fd);
    return outcome;
}

// Commands Redis has run (every command, those inside scripts included), INFO excepted.
long long redis_commands(tka::RedisConnection& redis) {
    const std::string info = redis.command({"INFO", "commandstats"}).str;
    long long total = 0;
    std::size_t at = 0;
    while ((at = info.find("cmdstat_", at)) != std::string::npos) {
        const std::size_t colon = info.find(':', at);
        const std::size_t calls = info.find("calls=", at);
        if (colon == std::string::npos || calls == std::string::npos) {
            break;
        }
        if (info.compare(at, colon - at, "cmdstat_info") != 0) {
            total += std::stoll(info.substr(calls + 6));
        }
        at = calls;
    }
    return total;
}

}  // namespace

int main(int argc, char** argv) try {
    const Args args(argc, argv);
    const int port = static_cast<int>(std::stol(args.require("port")));
    const std::vector<Credential> users = read_credentials(args.require("creds"));
    if (users.empty()) {
        throw std::runtime_error("no usernames in --creds");
    }
    const long count = args.num("count", 3000);
    const auto timeout = std::chrono::milliseconds(args.num("timeout-ms", 5000));
    const double max_seconds = args.real("max-seconds", 120);
    const long broker_pid = args.num("broker-pid", 0);

    // Every credential made up front: the timed loop only talks to the broker.
    std::mt19937_64 rng(std::random_device{}());
    std::vector<Credential> flood(static_cast<std::size_t>(count));
    for (long i = 0; i < count; ++i) {
        flood[static_cast<std::size_t>(i)].username =
            users[static_cast<std::size_t>(i) % users.size()].username;
        flood[static_cast<std::size_t>(i)].password = random_password(rng);
    }
    std::string id_prefix = "flood-";
    id_prefix += std::to_string(getpid());
    id_prefix += '-';

    std::optional<tka::RedisConnection> redis;
    long long background = 0;
    double idle_seconds = 0;
    long long before = 0;
    if (args.has("redis-port")) {
        tka::RedisOptions options;
        std::string url = "redis://127.0.0.1:";
        url += args.require("redis-port");
        options.endpoint = tka::parse_redis_url(url);
        redis.emplace(options);
        const long long idle_start = redis_commands(*redis);
        const auto idle_begin = Clock::now();
        std::this_thread::sleep_for(std::chrono::milliseconds(args.num("idle-ms", 2000)));
        before = redis_commands(*redis);
        idle_seconds = seconds_since(idle_begin);
        background = before - idle_start;
    }

    std::vector<double> latencies;
    latencies.reserve(static_cast<std::size_t>(count));
    std::uint64_t ok = 0;
    std::uint64_t refused = 0;
    std::uint64_t errors = 0;
    const double cpu_start = broker_pid > 0 ? main_thread_cpu_seconds(broker_pid) : 0;
    const auto start = Clock::now();
    for (long i = 0; i < count && seconds_since(start) < max_seconds; ++i) {
        double latency = 0;
        switch (attempt(port, id_prefix + std::to_string(i), flood[static_cast<std::size_t>(i)],
                        timeout, latency)) {
            case Outcome::ok:
                ++ok;
                latencies.push_back(latency);
                break;
            case Outcome::refused:
                ++refused;
                latencies.push_back(latency);
                break;
            case Outcome::error:
                ++errors;
                break;
        }
    }
    const double elapsed = seconds_since(start);
    const double cpu_used = broker_pid > 0 ? main_thread_cpu_seconds(broker_pid) - cpu_start : 0;
    const std::uint64_t attempts = ok + refused + errors;

    ResultLine line;
    line.add("attempts", attempts)
        .add("seconds", elapsed, 3)
        .add("ok", ok)
        .add("refused", refused)
        .add("errors", errors)
        .add("rate", static_cast<double>(ok + refused) / elapsed, 1)
        .add("refused_rate", static_cast<double>(refused) / elapsed, 1)
        .add("ok_rate", static_cast<double>(ok) / elapsed, 1)
        .add("p50_us", percentile(latencies, 50), 1)
        .add("p99_us", percentile(latencies, 99), 1)
        .add("broker_cpu_us", attempts > 0 ? cpu_used * 1e6 / static_cast<double>(attempts) : 0, 1);
    if (redis) {
        const long long during = redis_commands(*redis) - before;
        const double expected_background =
            idle_seconds > 0 ? static_cast<double>(background) * elapsed / idle_seconds : 0;
        const double net = std::max(0.0, static_cast<double>(during) - expected_background);
        line.add("redis_cmds", static_cast<std::uint64_t>(during))
            .add("redis_background", expected_background, 1)
            .add("redis_net", net, 1)
            .add("cmds_per_refused", refused > 0 ? net / static_cast<double>(refused) : 0, 4);
    }
    line.print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "auth_flood: %s\n", e.what());
    return 2;
}
