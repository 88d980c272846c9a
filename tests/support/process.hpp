// Child processes for integration tests: start a real program (redis-server, mosquitto,
// tokend, tokenctl) with its output captured to a file, stop it by its own PID.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tka::test {

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int free_port();

// Waits until 127.0.0.1:port accepts a TCP connection; false on timeout.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

struct RunResult {
    int exit_code = -1;  // 128+signal when killed by a signal
    std::string out;     // stdout
    std::string err;     // stderr
};

// Runs argv[0] (searched in PATH) to completion with optional stdin text and extra
// environment variables; kills it after `timeout`.
RunResult run(const std::vector<std::string>& argv, const std::string& stdin_text = "",
              const std::map<std::string, std::string>& env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A long-running child. stdout+stderr go to `log_path`. The destructor sends SIGTERM,
// waits up to 5 s, then SIGKILL.
class Process {
  public:
    Process(std::vector<std::string> argv, std::string log_path,
            const std::map<std::string, std::string>& env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    // Sends `sig` and waits for exit; returns the exit status as in RunResult.
    int stop(int sig = 15, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Everything the process wrote so far.
    std::string log() const;
    const std::string& log_path() const { return log_path_; }

  private:
    pid_t pid_ = -1;
    std::string log_path_;
    std::optional<int> status_;
};

}  // namespace tka::test
