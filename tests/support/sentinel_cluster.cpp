// SentinelCluster: a primary, a replica and three sentinels as child processes (see
// sentinel_cluster.hpp). Everything it asks the processes goes through short-lived
// RedisConnections, so a dead process is an answer ("not yet"), never a hang.
#include "tests/support/sentinel_cluster.hpp"

#include <csignal>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace tka::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kPortAttempts = 5;

RedisOptions options_for_port(int port) {
    RedisOptions o;
    o.endpoint = parse_redis_url(fmt::format("redis://127.0.0.1:{}", port));
    o.connect_timeout = 500ms;
    o.command_timeout = 1000ms;
    o.max_backoff = 100ms;
    return o;
}

// One command on a fresh connection to 127.0.0.1:port; nil when the process does not
// answer (not started yet, killed, busy).
RedisValue ask(int port, const std::vector<std::string>& argv) {
    try {
        RedisConnection conn(options_for_port(port));
        return conn.command(argv);
    } catch (const RedisError&) {
        return {};
    }
}

// The value of `field` in a flat field/value array (SENTINEL replicas/sentinels entries).
std::string field(const RedisValue& entry, const std::string& name) {
    for (std::size_t i = 0; i + 1 < entry.elements.size(); i += 2) {
        if (entry.elements[i].str == name) {
            return entry.elements[i + 1].str;
        }
    }
    return {};
}

}  // namespace

SentinelCluster::SentinelCluster(std::string master_name) : master_name_(std::move(master_name)) {
    nodes_.resize(5);
    nodes_[0].name = "primary";
    nodes_[1].name = "replica";
    for (int i = 0; i < 3; ++i) {
        nodes_[2 + static_cast<std::size_t>(i)].name = fmt::format("sentinel-{}", i + 1);
    }
    for (auto& node : nodes_) {
        std::filesystem::create_directory(dir_.file(node.name));
    }
    start_node(nodes_[0], 0);
    start_node(nodes_[1], nodes_[0].port);
    for (std::size_t i = 2; i < nodes_.size(); ++i) {
        start_sentinel(nodes_[i]);
    }
    wait_ready(30s);
}

SentinelCluster::~SentinelCluster() {
    // Sentinels first, so none starts a failover while the data nodes stop.
    for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
        if (it->process) {
            it->process->stop();
        }
    }
}

std::string SentinelCluster::url() const {
    std::string url = "redis+sentinel://";
    for (std::size_t i = 2; i < nodes_.size(); ++i) {
        url.append(i == 2 ? "" : ",").append("127.0.0.1:").append(std::to_string(nodes_[i].port));
    }
    return url.append("/").append(master_name_);
}

RedisOptions SentinelCluster::options() const {
    RedisOptions o;
    o.endpoint = parse_redis_url(url());
    o.connect_timeout = 1000ms;
    o.command_timeout = 2000ms;
    o.max_backoff = 100ms;
    return o;
}

RedisConnection SentinelCluster::connect_primary() const {
    return RedisConnection(options_for_port(primary_port()));
}

RedisConnection SentinelCluster::connect_replica() const {
    return RedisConnection(options_for_port(replica_port()));
}

// redis-server for `node` on its port, without persistence; a replica of 127.0.0.1:primary
// unless that is 0.
std::vector<std::string> SentinelCluster::server_argv(const Node& node, int primary) const {
    std::vector<std::string> argv = {"redis-server", "--port", std::to_string(node.port), "--bind",
                                     "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                                     dir_.file(node.name), "--daemonize", "no", "--protected-mode",
                                     "no",
                                     // a replica syncs at once, not after the default 5 s
                                     "--repl-diskless-sync-delay", "0"};
    if (primary != 0) {
        argv.insert(argv.end(), {"--replicaof", "127.0.0.1", std::to_string(primary)});
    }
    return argv;
}

// Starts redis-server on a free port; another port when that one turns out to be taken.
void SentinelCluster::start_node(Node& node, int primary) {
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
        node.port = free_port();
        node.process = std::make_unique<Process>(server_argv(node, primary),
                                                 dir_.file(fmt::format("{}.log", node.name)));
        const auto deadline = Clock::now() + 10s;
        while (Clock::now() < deadline && node.process->running()) {
            if (ask(node.port, {"PING"}).str == "PONG") {
                return;
            }
            std::this_thread::sleep_for(20ms);
        }
        node.process->stop();
    }
    throw std::runtime_error(fmt::format("{} did not start:\n{}", node.name, logs()));
}

void SentinelCluster::start_sentinel(Node& node) {
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
        node.port = free_port();
        // Sentinel rewrites its config file (known sentinels, replicas, epochs): a file of
        // its own, in its own directory.
        const std::string config =
            dir_.write(fmt::format("{}/sentinel.conf", node.name),
                       fmt::format("port {}\n"
                                   "bind 127.0.0.1\n"
                                   "protected-mode no\n"
                                   "daemonize no\n"
                                   "dir {}\n"
                                   "sentinel monitor {} 127.0.0.1 {} 2\n"
                                   "sentinel down-after-milliseconds {} 1000\n"
                                   "sentinel failover-timeout {} 3000\n"
                                   "sentinel parallel-syncs {} 1\n",
                                   node.port, dir_.file(node.name), master_name_, nodes_[0].port,
                                   master_name_, master_name_, master_name_));
        node.process = std::make_unique<Process>(std::vector<std::string>{"redis-sentinel", config},
                                                 dir_.file(fmt::format("{}.log", node.name)));
        const auto deadline = Clock::now() + 10s;
        while (Clock::now() < deadline && node.process->running()) {
            if (ask(node.port, {"PING"}).str == "PONG") {
                return;
            }
            std::this_thread::sleep_for(20ms);
        }
        node.process->stop();
    }
    throw std::runtime_error(fmt::format("{} did not start:\n{}", node.name, logs()));
}

// Ready: the replica's link is up, and each sentinel sees the master, the replica (no
// down flags) and the two other sentinels, so a failover can reach quorum and a leader.
void SentinelCluster::wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    const std::string replica_port = std::to_string(nodes_[1].port);
    auto ready = [&] {
        const RedisValue info = ask(nodes_[1].port, {"INFO", "replication"});
        if (info.str.find("master_link_status:up") == std::string::npos) {
            return false;
        }
        for (std::size_t i = 2; i < nodes_.size(); ++i) {
            const RedisValue replicas = ask(nodes_[i].port, {"SENTINEL", "replicas", master_name_});
            const RedisValue others = ask(nodes_[i].port, {"SENTINEL", "sentinels", master_name_});
            if (!replicas.is_array() || replicas.elements.size() != 1 || !others.is_array() ||
                others.elements.size() != 2) {
                return false;
            }
            const RedisValue& r = replicas.elements[0];
            if (field(r, "port") != replica_port || field(r, "flags") != "slave" ||
                field(r, "master-link-status") != "ok") {
                return false;
            }
        }
        return sentinels_agree_on(nodes_[0].port);
    };
    while (!ready()) {
        if (Clock::now() >= deadline || !all_running()) {
            throw std::runtime_error(
                fmt::format("the Sentinel deployment did not become ready:\n{}", logs()));
        }
        std::this_thread::sleep_for(100ms);
    }
}

bool SentinelCluster::sentinels_agree_on(int port) {
    for (std::size_t i = 2; i < nodes_.size(); ++i) {
        const RedisValue addr =
            ask(nodes_[i].port, {"SENTINEL", "get-master-addr-by-name", master_name_});
        if (!addr.is_array() || addr.elements.size() != 2 ||
            addr.elements[1].str != std::to_string(port)) {
            return false;
        }
    }
    return true;
}

void SentinelCluster::kill_primary() {
    Node& node = nodes_[primary_];
    node.process->stop(SIGKILL);
    node.killed = true;
}

bool SentinelCluster::new_primary_ready() {
    if (!nodes_[primary_].killed) {
        return true;  // no failover pending (none happened, or it is already done)
    }
    const std::size_t survivor = 1 - primary_;
    const int port = nodes_[survivor].port;
    const RedisValue role = ask(port, {"ROLE"});
    if (role.is_array() && !role.elements.empty() && role.elements[0].str == "master" &&
        sentinels_agree_on(port)) {
        primary_ = survivor;
        return true;
    }
    return false;
}

std::chrono::milliseconds SentinelCluster::wait_for_new_primary(std::chrono::milliseconds timeout) {
    const auto started = Clock::now();
    const auto deadline = started + timeout;
    while (!new_primary_ready()) {
        if (Clock::now() >= deadline) {
            throw std::runtime_error(
                fmt::format("the sentinels did not promote the replica:\n{}", logs()));
        }
        std::this_thread::sleep_for(20ms);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
}

void SentinelCluster::restart_killed_as_replica() {
    Node& node = nodes_[1 - primary_];
    if (!node.killed) {
        throw std::logic_error("restart_killed_as_replica: no node was killed");
    }
    node.process = std::make_unique<Process>(server_argv(node, primary_port()),
                                             dir_.file(fmt::format("{}-restarted.log", node.name)));
    node.killed = false;
    const auto deadline = Clock::now() + 30s;
    while (ask(node.port, {"INFO", "replication"}).str.find("master_link_status:up") ==
           std::string::npos) {
        if (Clock::now() >= deadline || !node.process->running()) {
            throw std::runtime_error(fmt::format("the restarted node did not sync:\n{}", logs()));
        }
        std::this_thread::sleep_for(50ms);
    }
}

bool SentinelCluster::all_running() {
    for (auto& node : nodes_) {
        if (!node.killed && (!node.process || !node.process->running())) {
            return false;
        }
    }
    return true;
}

std::string SentinelCluster::logs() const {
    std::string out;
    for (const auto& node : nodes_) {
        out.append("--- ").append(node.name).append(" (port ").append(std::to_string(node.port));
        out.append(node.killed ? ", killed" : "").append(") ---\n");
        if (node.process) {
            out.append(node.process->log());
        }
    }
    return out;
}

}  // namespace tka::test
