// A real redis-server for one test: own temp dir, own free port, no persistence.
// Can be stopped and started again on the same port to test outages and recovery.
#pragma once

#include <memory>
#include <string>

#include "common/redis.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tka::test {

class RedisServer {
  public:
    RedisServer();  // starts it and waits for PING
    ~RedisServer();

    int port() const { return port_; }
    std::string url() const;  // redis://127.0.0.1:<port>
    RedisOptions options() const;
    RedisConnection connect() const;

    void stop();   // SIGTERM and wait
    void start();  // again, same port (data is gone: no persistence)
    bool running() const { return process_ != nullptr; }
    // The redis-server's process id while it runs (-1 otherwise), e.g. to SIGSTOP it and
    // play a Redis that accepts connections but never answers.
    pid_t pid() const { return process_ ? process_->pid() : -1; }

  private:
    TempDir dir_;
    int port_;
    std::unique_ptr<Process> process_;
};

}  // namespace tka::test
