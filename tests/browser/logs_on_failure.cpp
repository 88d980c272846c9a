// A Catch2 listener that prints, at every failed assertion of a browser test, the logs that
// the running test named (logs_on_failure.hpp) and saves a screenshot of the page, as
// tests/e2e/e2e_log_on_failure.cpp does for brokers.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <exception>
#include <iostream>
#include <utility>

#include "tests/browser/logs_on_failure.hpp"
#include "tests/support/mosquitto_broker.hpp"

namespace tka::test {
namespace {

FailureContext g_context;

std::string last_chars(const std::string& text, std::size_t max_chars) {
    return text.size() <= max_chars ? text : text.substr(text.size() - max_chars);
}

void report() {
    if (g_context.browser != nullptr) {
        std::cerr << "--- browser log " << g_context.browser->log_path() << " (last lines) ---\n"
                  << g_context.browser->log_tail(30);
        if (!g_context.screenshot_path.empty()) {
            try {
                g_context.browser->screenshot(g_context.screenshot_path);
                std::cerr << "--- the page at the failure: " << g_context.screenshot_path << "\n";
            } catch (const std::exception& e) {
                std::cerr << "--- no screenshot of the failure: " << e.what() << "\n";
            }
        }
    }
    if (g_context.server_log) {
        std::cerr << "--- server log (last part) ---\n" << last_chars(g_context.server_log(), 4000);
    }
    std::cerr << MosquittoBroker::live_logs(20) << std::flush;
}

class BrowserLogsOnFailure : public Catch::TestEventListenerBase {
  public:
    using TestEventListenerBase::TestEventListenerBase;

    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.isOk()) {
            report();
        }
        return true;
    }
};

}  // namespace

LogsOnFailure::LogsOnFailure(FailureContext context) {
    g_context = std::move(context);
}

LogsOnFailure::~LogsOnFailure() {
    g_context = {};
}

}  // namespace tka::test

namespace {
using tka::test::BrowserLogsOnFailure;
}  // namespace

CATCH_REGISTER_LISTENER(BrowserLogsOnFailure)
