// The access log: one JSON object per request on one line of stderr, e.g.
//   {"ts":"2026-03-27T14:00:00.123Z","method":"POST","path":"/v2/tokens/create",
//    "status":200,"duration_ms":2.41,"remote":"127.0.0.1","org":"org_k7xm4pqr2n5t",
//    "token_id":"…"}
// Optional fields (org, token_id, error, detail) appear only when known. Built from named
// fields only: never a request body, a secret key or a password.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace tka::tokend {

struct LogEntry {
    std::string method;
    std::string path;  // without the query string; truncated to 256 chars
    int status = 0;
    double duration_ms = 0;
    std::string remote;
    std::string org_id;    // when the request named a well-formed organization
    std::string token_id;  // when known (issued, refreshed or named)
    std::string error;     // the error code sent, for statuses >= 400
    std::string detail;    // operator-facing cause of a 5xx (e.g. the Redis error)
};

std::string format_log_line(const LogEntry& entry, std::chrono::system_clock::time_point ts);

// "2026-03-27T14:00:00.123Z"
std::string format_log_time(std::chrono::system_clock::time_point ts);

// Writes whole lines to a file descriptor (stderr by default), one write(2) per line
// under a mutex so concurrent requests never interleave.
class RequestLog {
  public:
    explicit RequestLog(int fd = 2) : fd_(fd) {}
    void write(const LogEntry& entry);
    // Any other JSON line (startup, shutdown); a newline is appended.
    void write_line(const std::string& json_line);

  private:
    int fd_;
    std::mutex mutex_;
};

}  // namespace tka::tokend
