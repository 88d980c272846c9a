// Browser: one JSON command line to tests/browser/driver.mjs, one JSON answer line back.
#include "tests/support/browser.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>

namespace tka::test {
namespace {

const std::string kDriverDir = TKA_SOURCE_DIR "/tests/browser";

std::string chromium_path() {
    const char* path = std::getenv("TKA_CHROMIUM");
    return path != nullptr && *path != '\0' ? std::string(path) : std::string("/usr/bin/chromium");
}

bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, program);
        if (::access(candidate.c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

std::string last_lines(const std::string& text, std::size_t lines) {
    std::size_t pos = text.size();
    std::size_t seen = 0;
    while (pos > 0 && seen <= lines) {
        pos = text.rfind('\n', pos - 1);
        if (pos == std::string::npos) {
            return text;
        }
        ++seen;
    }
    return text.substr(pos == 0 ? 0 : pos + 1);
}

}  // namespace

std::string Browser::unavailable_reason() {
    if (!on_path("node")) {
        return "node is not on PATH (scripts/install-deps.sh installs Node.js)";
    }
    const std::string chromium = chromium_path();
    if (::access(chromium.c_str(), X_OK) != 0) {
        return fmt::format(
            "no Chromium at {} (scripts/install-deps.sh installs Debian's chromium; "
            "TKA_CHROMIUM names another)",
            chromium);
    }
    const std::string puppeteer = kDriverDir + "/node_modules/puppeteer-core/package.json";
    if (::access(puppeteer.c_str(), R_OK) != 0) {
        return fmt::format("{}/node_modules is not installed (scripts/browser-deps.sh runs npm ci)",
                           kDriverDir);
    }
    return "";
}

Browser::Browser(std::string log_path) : log_path_(std::move(log_path)) {
    driver_ = std::make_unique<PipedProcess>(
        std::vector<std::string>{"node", kDriverDir + "/driver.mjs"}, log_path_,
        std::map<std::string, std::string>{{"TKA_CHROMIUM", chromium_path()}});
    const auto line = driver_->read_line(std::chrono::seconds(60));
    if (!line) {
        fail(driver_->eof() ? "the driver ended before the browser was ready"
                            : "the browser was not ready within 60 s");
    }
    const auto ready = nlohmann::json::parse(*line, nullptr, false);
    if (!ready.is_object() || !ready.value("ready", false)) {
        fail(fmt::format("unexpected first line from the driver: {}", *line));
    }
}

Browser::~Browser() {
    if (driver_ && driver_->running() && driver_->write_line(R"({"cmd":"quit"})")) {
        driver_->read_line(std::chrono::seconds(10));
    }
    driver_.reset();
}

void Browser::fail(const std::string& what) const {
    throw BrowserError(fmt::format("browser: {}\n--- browser log {} (last lines) ---\n{}", what,
                                   log_path_, log_tail()));
}

std::string Browser::log_tail(std::size_t lines) const {
    std::ifstream in(log_path_, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return last_lines(s.str(), lines);
}

nlohmann::json Browser::call(const nlohmann::json& command, std::chrono::milliseconds timeout) {
    const std::string name = command.value("cmd", "");
    if (!driver_->write_line(command.dump())) {
        fail(fmt::format("{}: the driver is gone", name));
    }
    const auto line = driver_->read_line(timeout);
    if (!line) {
        fail(fmt::format("{}: {}", name,
                         driver_->eof() ? "the driver ended without an answer"
                                        : "no answer within the time limit"));
    }
    auto answer = nlohmann::json::parse(*line, nullptr, false);
    if (!answer.is_object()) {
        fail(fmt::format("{}: not a JSON answer: {}", name, *line));
    }
    if (answer.contains("error")) {
        fail(answer["error"].get<std::string>());
    }
    return answer;
}

namespace {

Navigation navigation(const nlohmann::json& answer) {
    Navigation n;
    n.navigated = answer.value("navigated", true);
    n.status = answer.value("status", 0);
    n.url = answer.value("url", "");
    return n;
}

}  // namespace

Navigation Browser::open(const std::string& url) {
    return navigation(call({{"cmd", "goto"}, {"url", url}}));
}

void Browser::fill(const std::string& selector, const std::string& value) {
    call({{"cmd", "fill"}, {"selector", selector}, {"value", value}});
}

Navigation Browser::click(const std::string& selector) {
    return navigation(call({{"cmd", "click"}, {"selector", selector}}));
}

Navigation Browser::press(const std::string& key) {
    return navigation(call({{"cmd", "press"}, {"key", key}}));
}

std::string Browser::text(const std::string& selector) {
    return call({{"cmd", "text"}, {"selector", selector}})["value"].get<std::string>();
}

bool Browser::exists(const std::string& selector) {
    return call({{"cmd", "exists"}, {"selector", selector}})["value"].get<bool>();
}

void Browser::wait_for(const std::string& selector) {
    call({{"cmd", "wait"}, {"selector", selector}});
}

bool Browser::visible(const std::string& selector) {
    return call({{"cmd", "visible"}, {"selector", selector}})["value"].get<bool>();
}

std::optional<std::string> Browser::attr(const std::string& selector, const std::string& name) {
    const auto answer = call({{"cmd", "attr"}, {"selector", selector}, {"name", name}});
    if (answer["value"].is_null()) {
        return std::nullopt;
    }
    return answer["value"].get<std::string>();
}

int Browser::count(const std::string& selector) {
    return call({{"cmd", "count"}, {"selector", selector}})["value"].get<int>();
}

std::string Browser::focused() {
    return call({{"cmd", "focused"}})["value"].get<std::string>();
}

void Browser::screenshot(const std::string& path, bool full_page) {
    call({{"cmd", "screenshot"}, {"path", path}, {"fullPage", full_page}});
}

std::string Browser::url() {
    return call({{"cmd", "url"}})["value"].get<std::string>();
}

std::vector<CookieFlags> Browser::cookies() {
    std::vector<CookieFlags> out;
    const auto answer = call({{"cmd", "cookies"}});
    for (const auto& c : answer["value"]) {
        CookieFlags flags;
        flags.name = c.value("name", "");
        flags.http_only = c.value("httpOnly", false);
        flags.secure = c.value("secure", false);
        flags.same_site = c.value("sameSite", "");
        flags.path = c.value("path", "");
        out.push_back(std::move(flags));
    }
    return out;
}

std::vector<std::string> Browser::page_errors() {
    return call({{"cmd", "page_errors"}})["value"].get<std::vector<std::string>>();
}

}  // namespace tka::test
