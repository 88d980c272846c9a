// Logging seam between the plugin logic and the broker: the logic formats messages and
// hands them to a sink (mosquitto_log_printf with the "token-auth: " prefix in the glue,
// a vector in tests). Messages above the configured plugin_opt_log_level are dropped
// before they are built. Call only from the broker thread (Mosquitto's log functions are
// not thread safe); background threads queue their messages instead.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "plugin/options.hpp"

namespace tka::plugin {

using LogSink = std::function<void(LogLevel, const std::string&)>;

class Logger {
  public:
    Logger() = default;
    Logger(LogSink sink, LogLevel max_level) : sink_(std::move(sink)), max_level_(max_level) {}

    bool enabled(LogLevel level) const { return sink_ && level <= max_level_; }
    void log(LogLevel level, const std::string& message) const {
        if (enabled(level)) {
            sink_(level, message);
        }
    }

  private:
    LogSink sink_;
    LogLevel max_level_ = LogLevel::notice;
};

}  // namespace tka::plugin
