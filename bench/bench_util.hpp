// Small helpers every benchmark tool shares: clocks, percentiles, a "--key value" command
// line, credential files, and one-line "key=value" result output that scripts/bench.sh
// parses with awk. Header-only so each tool stays a single translation unit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace tka::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Wall clock as fractional unix seconds (to compare with a token's expires_at).
inline double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Nearest-rank percentile of an unsorted sample (copied); 0 for an empty sample.
inline double percentile(std::vector<double> values, double p) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
    std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
    index = std::min(index, values.size() - 1);
    return values[index];
}

// "--name value" pairs and bare "--flag"s; unknown names are an error at get time only
// when the caller asks with require().
class Args {
  public:
    Args(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            std::string key = argv[i];
            if (key.rfind("--", 0) != 0) {
                throw std::runtime_error("unexpected argument: " + key);
            }
            key = key.substr(2);
            if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
                values_[key] = argv[++i];
            } else {
                values_[key] = "";
            }
        }
    }
    bool has(const std::string& key) const { return values_.count(key) != 0; }
    std::string str(const std::string& key, const std::string& fallback) const {
        auto it = values_.find(key);
        return it == values_.end() ? fallback : it->second;
    }
    std::string require(const std::string& key) const {
        auto it = values_.find(key);
        if (it == values_.end() || it->second.empty()) {
            throw std::runtime_error("missing --" + key);
        }
        return it->second;
    }
    long num(const std::string& key, long fallback) const {
        auto it = values_.find(key);
        return it == values_.end() ? fallback : std::stol(it->second);
    }
    double real(const std::string& key, double fallback) const {
        auto it = values_.find(key);
        return it == values_.end() ? fallback : std::stod(it->second);
    }

  private:
    std::map<std::string, std::string> values_;
};

struct Credential {
    std::string username;
    std::string password;
    double expires_at = 0;  // unix seconds; 0 when the file has no third column
};

// Lines "username<TAB>password[<TAB>expires_at]"; blank lines skipped.
inline std::vector<Credential> read_credentials(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    std::vector<Credential> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) {
            continue;
        }
        std::istringstream fields(line);
        Credential c;
        std::string expires;
        std::getline(fields, c.username, '\t');
        std::getline(fields, c.password, '\t');
        if (std::getline(fields, expires, '\t') && !expires.empty()) {
            c.expires_at = std::stod(expires);
        }
        out.push_back(std::move(c));
    }
    return out;
}

// One result line: "key=value key=value ..." in insertion order.
class ResultLine {
  public:
    ResultLine& add(const std::string& key, const std::string& value) {
        text_ += (text_.empty() ? "" : " ") + key + "=" + value;
        return *this;
    }
    ResultLine& add(const std::string& key, double value, int decimals = 1) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
        return add(key, std::string(buf));
    }
    ResultLine& add(const std::string& key, std::uint64_t value) {
        return add(key, std::to_string(value));
    }
    void print() const { std::printf("%s\n", text_.c_str()); }

  private:
    std::string text_;
};

// utime + stime of a process in seconds, from /proc/<pid>/stat; -1 when unreadable.
inline double process_cpu_seconds(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!in || !std::getline(in, stat)) {
        return -1;
    }
    // Field 2 (comm) may hold spaces: skip past its closing parenthesis.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return -1;
    }
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int index = 3; rest >> field; ++index) {
        if (index == 14) {
            utime = std::stoull(field);
        } else if (index == 15) {
            stime = std::stoull(field);
            break;
        }
    }
    static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    return static_cast<double>(utime + stime) / ticks;
}

// CPU time of a process's main thread (for Mosquitto: the broker thread, where the plugin's
// auth and tick callbacks run) in seconds, with nanosecond resolution from
// /proc/<pid>/schedstat; falls back to process_cpu_seconds (10 ms ticks) when absent.
inline double main_thread_cpu_seconds(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
    unsigned long long ns = 0;
    if (in >> ns) {
        return static_cast<double>(ns) / 1e9;
    }
    return process_cpu_seconds(pid);
}

// VmRSS of a process in kilobytes, from /proc/<pid>/status; -1 when unreadable.
inline long process_rss_kb(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

}  // namespace tka::bench
