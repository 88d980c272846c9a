// Child processes for integration tests: start a real program (redis-server, mosquitto,
// tokend, tokenctl) with its output captured to a file, stop it by its own PID; or talk to
// one line by line (PipedProcess: the browser driver of tests/browser).
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

// Whether a child's log holds a report of AddressSanitizer, LeakSanitizer,
// ThreadSanitizer or UndefinedBehaviorSanitizer (the builds the tests run under).
bool has_sanitizer_report(const std::string& log);

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

// A long-running child the test talks to line by line: its stdin and stdout are one
// socket the test holds (so a write to a child that died fails instead of raising
// SIGPIPE), its stderr goes to `log_path`. The destructor closes its stdin, gives it 5 s to
// end on its own, then SIGTERM and SIGKILL as Process does.
class PipedProcess {
  public:
    PipedProcess(std::vector<std::string> argv, std::string log_path,
                 const std::map<std::string, std::string>& env = {});
    ~PipedProcess();
    PipedProcess(const PipedProcess&) = delete;
    PipedProcess& operator=(const PipedProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    // Writes `line` and a newline; false when the child no longer reads.
    bool write_line(const std::string& line);
    // The next line the child wrote (without its newline); nullopt when none came within
    // `timeout` or the child closed its stdout (eof() tells which).
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    bool eof() const { return eof_; }
    // Ends the child's input (it sees end of file) and waits up to `timeout` for it to exit,
    // then stops it as Process::stop does. Returns the exit status as in RunResult.
    int finish(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Everything the child wrote to stderr so far.
    std::string log() const;
    const std::string& log_path() const { return log_path_; }

  private:
    pid_t pid_ = -1;
    int fd_ = -1;  // our end of the socket: the child's stdin and stdout
    std::string buffer_;
    bool eof_ = false;
    std::string log_path_;
    std::optional<int> status_;
};

}  // namespace tka::test
