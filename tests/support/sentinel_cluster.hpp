// A real Redis Sentinel deployment for one test, all on loopback: a primary, one replica
// (`redis-server --replicaof`) and three `redis-sentinel` processes watching them under one
// master name with quorum 2 and a short down-after (1 s), so that killing the primary with
// SIGKILL makes the sentinels promote the replica within a few seconds. Each process has
// its own free port (a taken port is retried with another), the sentinels their own
// rewritable config file in a temp dir, and every log is kept for failure reports.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/redis.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tka::test {

class SentinelCluster {
  public:
    // Starts everything and returns once the replica is in sync and all three sentinels
    // know the master, its replica and the two other sentinels. Throws std::runtime_error
    // (with the logs) when that does not happen within 30 s.
    explicit SentinelCluster(std::string master_name = "tka");
    ~SentinelCluster();
    SentinelCluster(const SentinelCluster&) = delete;
    SentinelCluster& operator=(const SentinelCluster&) = delete;

    const std::string& master_name() const { return master_name_; }
    // redis+sentinel://127.0.0.1:<s1>,127.0.0.1:<s2>,127.0.0.1:<s3>/<master_name>
    std::string url() const;
    // Options for that URL with the test timeouts of RedisServer::options().
    RedisOptions options() const;
    // The port of the node that is primary now (as the sentinels last agreed).
    int primary_port() const { return nodes_[primary_].port; }
    int replica_port() const { return nodes_[1 - primary_].port; }
    // A plain connection to the current primary / the replica (not through Sentinel).
    RedisConnection connect_primary() const;
    RedisConnection connect_replica() const;

    // SIGKILLs the primary by its PID (no shutdown, no last replication) and waits for it.
    void kill_primary();
    // After kill_primary(): true once every sentinel names the surviving node as master and
    // that node answers ROLE with "master" (it is the primary from then on). Asks once,
    // never waits. True when no failover is pending.
    bool new_primary_ready();
    // Waits until every sentinel names the surviving node as master and that node answers
    // ROLE with "master"; returns the time that took. Throws std::runtime_error with the
    // logs on timeout.
    std::chrono::milliseconds wait_for_new_primary(
        std::chrono::milliseconds timeout = std::chrono::seconds(30));

    // Starts the killed node again, empty, on its old port as a replica of the current
    // primary (what an operator does with a failed primary) and waits until it is in sync.
    void restart_killed_as_replica();

    // True while every process that should run (all but a killed primary) runs.
    bool all_running();
    // The log of every process, each under a header, for failure output.
    std::string logs() const;

  private:
    struct Node {
        std::string name;  // "primary", "replica", "sentinel-1", ...
        int port = 0;
        std::unique_ptr<Process> process;
        bool killed = false;
    };
    std::vector<std::string> server_argv(const Node& node, int primary) const;
    void start_node(Node& node, int primary);
    void start_sentinel(Node& node);
    void wait_ready(std::chrono::milliseconds timeout);
    bool sentinels_agree_on(int port);

    std::string master_name_;
    TempDir dir_;
    std::vector<Node> nodes_;  // [0] first primary, [1] first replica, [2..4] sentinels
    std::size_t primary_ = 0;  // index into nodes_ of the current primary
};

}  // namespace tka::test
