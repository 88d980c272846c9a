// JSON access-log lines on stderr (see request_log.hpp).
#include "tokend/request_log.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>

#include "common/time_format.hpp"

namespace tka::tokend {

std::string format_log_time(std::chrono::system_clock::time_point ts) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch()).count();
    auto seconds = ms / 1000;
    auto millis = ms % 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    std::string s = format_rfc3339(seconds);  // "...:SSZ"
    s.insert(s.size() - 1, fmt::format(".{:03d}", millis));
    return s;
}

std::string format_log_line(const LogEntry& e, std::chrono::system_clock::time_point ts) {
    nlohmann::ordered_json j;
    j["ts"] = format_log_time(ts);
    j["method"] = e.method;
    j["path"] = e.path.size() > 256 ? e.path.substr(0, 256) : e.path;
    j["status"] = e.status;
    j["duration_ms"] = std::round(e.duration_ms * 1000) / 1000;
    j["remote"] = e.remote;
    if (!e.org_id.empty()) {
        j["org"] = e.org_id;
    }
    if (!e.token_id.empty()) {
        j["token_id"] = e.token_id;
    }
    if (!e.error.empty()) {
        j["error"] = e.error;
    }
    if (!e.detail.empty()) {
        j["detail"] = e.detail.size() > 300 ? e.detail.substr(0, 300) : e.detail;
    }
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void RequestLog::write(const LogEntry& entry) {
    write_line(format_log_line(entry, std::chrono::system_clock::now()));
}

void RequestLog::write_line(const std::string& json_line) {
    std::string line = json_line + "\n";
    std::lock_guard lock(mutex_);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;  // nowhere to report a broken stderr
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace tka::tokend
