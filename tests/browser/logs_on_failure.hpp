// What a failing browser test shows besides the assertion: the tail of the browser's log
// (Node and Chromium), a screenshot of the page at that moment, the server's log and the
// live brokers' logs. A test names its browser and server for as long as it runs.
#pragma once

#include <functional>
#include <string>

#include "tests/support/browser.hpp"

namespace tka::test {

struct FailureContext {
    Browser* browser = nullptr;
    std::function<std::string()> server_log;  // e.g. tokend's log
    std::string screenshot_path;              // where the failure's screenshot goes
};

// While one lives, failed assertions print what `context` names (logs_on_failure.cpp).
class LogsOnFailure {
  public:
    explicit LogsOnFailure(FailureContext context);
    ~LogsOnFailure();
    LogsOnFailure(const LogsOnFailure&) = delete;
    LogsOnFailure& operator=(const LogsOnFailure&) = delete;
};

}  // namespace tka::test
