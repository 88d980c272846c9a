// Plugin configuration parsing (see options.hpp): one small parser per option, each
// producing "Invalid '<key>' value ..." messages in the style of Mosquitto's plugins.
#include "plugin/options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tka::plugin {

namespace {

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string trim(std::string_view s) {
    const auto not_space = [](unsigned char c) { return std::isspace(c) == 0; };
    auto begin = std::find_if(s.begin(), s.end(), not_space);
    auto end = std::find_if(s.rbegin(), s.rend(), not_space).base();
    if (begin >= end) {
        return {};
    }
    return std::string(begin, end);
}

[[noreturn]] void invalid(std::string_view key, std::string_view value, std::string_view why) {
    std::string message = "Invalid '" + std::string(key) + "' value '" + std::string(value) + "'";
    if (!why.empty()) {
        message += " (" + std::string(why) + ")";
    }
    throw OptionError(message);
}

std::chrono::milliseconds parse_timeout(std::string_view key, std::string_view raw) {
    const std::string value = trim(raw);
    int ms = 0;
    const char* first = value.data();
    const char* last = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(first, last, ms);
    if (value.empty() || ec != std::errc() || ptr != last) {
        invalid(key, raw, "expected whole milliseconds");
    }
    if (ms < kMinRedisTimeoutMs || ms > kMaxRedisTimeoutMs) {
        invalid(key, raw,
                "must be between " + std::to_string(kMinRedisTimeoutMs) + " and " +
                    std::to_string(kMaxRedisTimeoutMs));
    }
    return std::chrono::milliseconds(ms);
}

bool parse_on_off(std::string_view key, std::string_view raw) {
    const std::string value = lowercase(trim(raw));
    if (value == "on" || value == "true" || value == "yes" || value == "1") {
        return true;
    }
    if (value == "off" || value == "false" || value == "no" || value == "0") {
        return false;
    }
    invalid(key, raw, "expected on or off");
}

std::size_t parse_entries(std::string_view key, std::string_view raw) {
    const std::string value = trim(raw);
    std::size_t n = 0;
    const char* first = value.data();
    const char* last = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(first, last, n);
    if (value.empty() || ec != std::errc() || ptr != last || n < kMinCacheEntries ||
        n > kMaxCacheEntries) {
        invalid(key, raw,
                "expected a whole number of entries between " + std::to_string(kMinCacheEntries) +
                    " and " + std::to_string(kMaxCacheEntries));
    }
    return n;
}

AclDefault parse_acl_default(std::string_view key, std::string_view raw) {
    const std::string value = lowercase(trim(raw));
    if (value == "org") {
        return AclDefault::org;
    }
    if (value == "none") {
        return AclDefault::none;
    }
    invalid(key, raw, "expected org or none");
}

// A whole number in [min, max]; `unit` names it in the message ("seconds").
long long parse_whole(std::string_view key, std::string_view raw, long long min, long long max,
                      std::string_view unit) {
    const std::string value = trim(raw);
    long long n = 0;
    const char* first = value.data();
    const char* last = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(first, last, n);
    if (value.empty() || ec != std::errc() || ptr != last || n < min || n > max) {
        std::string why = "expected whole ";
        why += unit;
        why += " between ";
        why += std::to_string(min);
        why += " and ";
        why += std::to_string(max);
        invalid(key, raw, why);
    }
    return n;
}

LogLevel parse_log_level(std::string_view key, std::string_view raw) {
    const std::string value = lowercase(trim(raw));
    for (LogLevel level :
         {LogLevel::error, LogLevel::warning, LogLevel::notice, LogLevel::info, LogLevel::debug}) {
        if (value == log_level_name(level)) {
            return level;
        }
    }
    invalid(key, raw, "expected error, warning, notice, info or debug");
}

void append_patterns(std::string_view key, std::string_view raw, std::vector<std::string>& out) {
    std::size_t start = 0;
    bool any = false;
    while (start <= raw.size()) {
        std::size_t comma = raw.find(',', start);
        if (comma == std::string_view::npos) {
            comma = raw.size();
        }
        const std::string pattern = trim(raw.substr(start, comma - start));
        if (!pattern.empty()) {
            const std::string why = check_acl_pattern(pattern);
            if (!why.empty()) {
                invalid(key, pattern, why);
            }
            out.push_back(pattern);
            any = true;
        }
        start = comma + 1;
    }
    if (!any) {
        invalid(key, raw, "expected one or more topic patterns");
    }
}

}  // namespace

std::string_view log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::error:
            return "error";
        case LogLevel::warning:
            return "warning";
        case LogLevel::notice:
            return "notice";
        case LogLevel::info:
            return "info";
        case LogLevel::debug:
            return "debug";
    }
    return "notice";
}

std::string check_acl_pattern(std::string_view pattern) {
    if (pattern.empty()) {
        return "empty pattern";
    }
    if (pattern.size() > kMaxAclPatternLength) {
        return "pattern too long";
    }
    std::size_t level_start = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\0') {
            return "NUL character";
        }
        if (c == '/') {
            level_start = i + 1;
            continue;
        }
        const bool level_alone =
            i == level_start && (i + 1 == pattern.size() || pattern[i + 1] == '/');
        if (c == '+' && !level_alone) {
            return "'+' must be a whole topic level";
        }
        if (c == '#' && (!level_alone || i + 1 != pattern.size())) {
            return "'#' must be the whole last topic level";
        }
        if (c == '%') {
            if (i + 1 >= pattern.size() || (pattern[i + 1] != 'o' && pattern[i + 1] != 'u')) {
                return "only %o (organization id) and %u (user id) may follow '%'";
            }
            ++i;
        }
    }
    return {};
}

std::string describe_acl(const PluginConfig& config) {
    const auto direction = [](std::string_view name, const std::vector<std::string>& patterns) {
        std::string out(name);
        if (patterns.empty()) {
            out.append(" any topic (plugin_opt_acl_default none)");
            return out;
        }
        for (std::size_t i = 0; i < patterns.size(); ++i) {
            out.append(i == 0 ? " " : " or ");
            out.append(patterns[i]);
        }
        return out;
    };
    std::string out = direction("read", config.acl_read);
    out.append(", ");
    out.append(direction("write", config.acl_write));
    return out;
}

PluginConfig parse_options(const std::vector<std::pair<std::string, std::string>>& options) {
    PluginConfig config;
    for (const auto& [raw_key, value] : options) {
        std::string key = lowercase(raw_key);
        // Accept the full mosquitto.conf spelling too, in case a caller passes it through.
        if (key.rfind("plugin_opt_", 0) == 0) {
            key.erase(0, std::string_view("plugin_opt_").size());
        }
        if (key == "redis_url") {
            const std::string url = trim(value);
            try {
                config.redis_endpoint = parse_redis_url(url);
            } catch (const std::exception& e) {
                // Never echo the URL itself: it may carry a password.
                throw OptionError("Invalid 'redis_url' value (" + std::string(e.what()) + ")");
            }
            config.redis_url = url;
        } else if (key == "redis_tls_ca") {
            config.redis_tls.ca_file = trim(value);
        } else if (key == "redis_tls_cert") {
            config.redis_tls.cert_file = trim(value);
        } else if (key == "redis_tls_key") {
            config.redis_tls.key_file = trim(value);
        } else if (key == "redis_tls_insecure") {
            config.redis_tls.insecure = parse_on_off("redis_tls_insecure", value);
        } else if (key == "redis_timeout_ms") {
            config.redis_timeout = parse_timeout("redis_timeout_ms", value);
        } else if (key == "acl_read") {
            append_patterns("acl_read", value, config.acl_read);
        } else if (key == "acl_write") {
            append_patterns("acl_write", value, config.acl_write);
        } else if (key == "acl_default") {
            config.acl_default = parse_acl_default("acl_default", value);
        } else if (key == "sys_interval") {
            config.sys_interval = std::chrono::seconds(
                parse_whole("sys_interval", value, 0, kMaxSysIntervalS, "seconds (0: off)"));
        } else if (key == "log_level") {
            config.log_level = parse_log_level("log_level", value);
        } else if (key == "cache") {
            config.cache = parse_on_off("cache", value);
        } else if (key == "cache_max_entries") {
            config.cache_max_entries = parse_entries("cache_max_entries", value);
        } else if (key == "delayed_auth") {
            config.delayed_auth = parse_on_off("delayed_auth", value);
        } else if (key == "backoff") {
            config.backoff = parse_on_off("backoff", value);
        } else if (key == "backoff_threshold") {
            config.backoff_threshold = static_cast<int>(
                parse_whole("backoff_threshold", value, 1, kMaxBackoffThreshold, "failures"));
        } else if (key == "backoff_first_s") {
            config.backoff_first = std::chrono::seconds(
                parse_whole("backoff_first_s", value, 1, kMaxBackoffSeconds, "seconds"));
        } else if (key == "backoff_max_s") {
            config.backoff_max = std::chrono::seconds(
                parse_whole("backoff_max_s", value, 1, kMaxBackoffSeconds, "seconds"));
        } else if (key == "backoff_max_tracked") {
            config.backoff_max_tracked = static_cast<std::size_t>(
                parse_whole("backoff_max_tracked", value, 1,
                            static_cast<long long>(kMaxBackoffMaxTracked), "entries"));
        } else {
            throw OptionError("Unknown option 'plugin_opt_" + key +
                              "' (known: redis_url, redis_timeout_ms, redis_tls_ca, "
                              "redis_tls_cert, redis_tls_key, redis_tls_insecure, acl_read, "
                              "acl_write, "
                              "acl_default, log_level, cache, cache_max_entries, delayed_auth, "
                              "sys_interval, backoff, backoff_threshold, backoff_first_s, "
                              "backoff_max_s, backoff_max_tracked)");
        }
    }
    if (config.acl_default == AclDefault::org) {
        for (std::vector<std::string>* patterns : {&config.acl_read, &config.acl_write}) {
            if (patterns->empty()) {
                patterns->emplace_back(kOrgNamespacePattern);
            }
        }
    }
    if (config.backoff_max < config.backoff_first) {
        std::string why = "must not be less than backoff_first_s, ";
        why += std::to_string(config.backoff_first.count());
        invalid("backoff_max_s", std::to_string(config.backoff_max.count()), why);
    }
    if (config.redis_url == kDefaultRedisUrl) {
        config.redis_endpoint = parse_redis_url(config.redis_url);
    }
    const std::string tls_error = check_redis_tls(
        config.redis_tls, config.redis_endpoint,
        {"plugin_opt_redis_tls_ca", "plugin_opt_redis_tls_cert", "plugin_opt_redis_tls_key",
         "plugin_opt_redis_tls_insecure", "plugin_opt_redis_url"});
    if (!tls_error.empty()) {
        throw OptionError(tls_error);
    }
    return config;
}

}  // namespace tka::plugin
