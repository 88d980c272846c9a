// Child processes for integration tests: posix_spawn with output redirected to files (or,
// for PipedProcess, stdin and stdout on a socket we hold), bounded waits, and termination
// of exactly the PID we started.
#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace tka::test {
namespace {

sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Environment of this process plus/overridden by `extra`, as "K=V" strings.
std::vector<std::string> merged_env(const std::map<std::string, std::string>& extra) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string kv = *e;
        const std::string key = kv.substr(0, kv.find('='));
        if (extra.count(key) == 0) {
            env.push_back(std::move(kv));
        }
    }
    for (const auto& [k, v] : extra) {
        env.push_back(k + "=" + v);
    }
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

// posix_spawnp with `actions` (destroyed here), the test's environment plus `env`.
pid_t spawn_with(std::vector<std::string> argv, posix_spawn_file_actions_t& actions,
                 const std::map<std::string, std::string>& env) {
    auto envs = merged_env(env);
    auto c_env = c_strings(envs);
    auto c_argv = c_strings(argv);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    return pid;
}

// posix_spawnp with stdin/stdout/stderr redirected to the given paths.
pid_t spawn(std::vector<std::string> argv, const std::string& in_path, const std::string& out_path,
            const std::string& err_path, const std::map<std::string, std::string>& env) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (err_path == out_path) {
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    } else {
        posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    }
    return spawn_with(std::move(argv), actions, env);
}

// posix_spawnp with stdin and stdout on `io_fd` and stderr appended to err_path.
pid_t spawn_piped(std::vector<std::string> argv, int io_fd, const std::string& err_path,
                  const std::map<std::string, std::string>& env) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, io_fd, 0);
    posix_spawn_file_actions_adddup2(&actions, io_fd, 1);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    return spawn_with(std::move(argv), actions, env);
}

// Whether child `pid` still runs; records its raw status in `status` once it has exited
// (and then answers false without asking again).
bool still_running(pid_t pid, std::optional<int>& status) {
    if (status) {
        return false;
    }
    int raw = 0;
    const pid_t r = ::waitpid(pid, &raw, WNOHANG);
    if (r == pid) {
        status = raw;
        return false;
    }
    return r == 0;
}

// Waits for pid up to `timeout`; returns the raw status or nullopt if still running.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return status;
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    auto addr = loopback(0);
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        auto addr = loopback(port);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        if (ok) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

RunResult run(const std::vector<std::string>& argv, const std::string& stdin_text,
              const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout) {
    TempDir dir;
    const std::string in = dir.write("stdin", stdin_text);
    const pid_t pid = spawn(argv, in, dir.file("stdout"), dir.file("stderr"), env);
    RunResult result;
    auto status = wait_for(pid, timeout);
    if (!status) {
        ::kill(pid, SIGKILL);
        status = wait_for(pid, std::chrono::seconds(5));
    }
    result.exit_code = status ? decode_status(*status) : -1;
    result.out = read_file(dir.file("stdout"));
    result.err = read_file(dir.file("stderr"));
    return result;
}

Process::Process(std::vector<std::string> argv, std::string log_path,
                 const std::map<std::string, std::string>& env)
    : log_path_(std::move(log_path)) {
    pid_ = spawn(std::move(argv), "/dev/null", log_path_, log_path_, env);
}

Process::~Process() {
    if (running()) {
        stop();
    }
}

bool Process::running() {
    return still_running(pid_, status_);
}

int Process::stop(int sig, std::chrono::milliseconds timeout) {
    if (!status_) {
        ::kill(pid_, sig);
        auto status = wait_for(pid_, timeout);
        if (!status) {
            ::kill(pid_, SIGKILL);
            status = wait_for(pid_, std::chrono::seconds(5));
        }
        status_ = status.value_or(-1);
    }
    return decode_status(*status_);
}

std::string Process::log() const {
    return read_file(log_path_);
}

PipedProcess::PipedProcess(std::vector<std::string> argv, std::string log_path,
                           const std::map<std::string, std::string>& env)
    : log_path_(std::move(log_path)) {
    int fds[2] = {-1, -1};
    // Both ends close on exec; dup2 gives the child its stdin and stdout without the flag.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    }
    try {
        pid_ = spawn_piped(std::move(argv), fds[1], log_path_, env);
    } catch (...) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw;
    }
    ::close(fds[1]);
    fd_ = fds[0];
}

PipedProcess::~PipedProcess() {
    finish();
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool PipedProcess::running() {
    return still_running(pid_, status_);
}

bool PipedProcess::write_line(const std::string& line) {
    const std::string data = std::string(line).append("\n");
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

std::optional<std::string> PipedProcess::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto newline = buffer_.find('\n');
        if (newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return line;
        }
        if (eof_) {
            return std::nullopt;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR) {
            eof_ = true;
        } else if (ready > 0) {
            char chunk[4096];
            const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
            if (n > 0) {
                buffer_.append(chunk, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                eof_ = true;
            }
        }
    }
}

int PipedProcess::finish(std::chrono::milliseconds timeout) {
    if (!status_) {
        ::shutdown(fd_, SHUT_WR);
        auto status = wait_for(pid_, timeout);
        if (!status) {
            ::kill(pid_, SIGTERM);
            status = wait_for(pid_, std::chrono::seconds(5));
        }
        if (!status) {
            ::kill(pid_, SIGKILL);
            status = wait_for(pid_, std::chrono::seconds(5));
        }
        status_ = status.value_or(-1);
    }
    return decode_status(*status_);
}

std::string PipedProcess::log() const {
    return read_file(log_path_);
}

bool has_sanitizer_report(const std::string& log) {
    return log.find("ERROR: AddressSanitizer") != std::string::npos ||
           log.find("ERROR: LeakSanitizer") != std::string::npos ||
           log.find("WARNING: ThreadSanitizer") != std::string::npos ||
           log.find("FATAL: ThreadSanitizer") != std::string::npos ||
           log.find("runtime error:") != std::string::npos;
}

}  // namespace tka::test
