// A real browser for tests: headless Debian Chromium driven by puppeteer-core through
// tests/browser/driver.mjs, a Node.js child this class talks to one JSON line at a time
// (tests/support/process.hpp, PipedProcess). Each method is one driver command and throws
// BrowserError, with the driver's sentence and the tail of Node's and Chromium's stderr,
// when the command fails (no such element, a 10 s timeout, a dead browser). What the test
// types into fields never appears in an error.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

namespace tka::test {

struct BrowserError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The answer to a command that may load another document.
struct Navigation {
    bool navigated = false;  // a new document was loaded
    int status = 0;          // its HTTP status (0 when nothing was loaded)
    std::string url;         // the page's address afterwards
};

// A cookie as the browser keeps it, without its value.
struct CookieFlags {
    std::string name;
    bool http_only = false;
    bool secure = false;
    std::string same_site;  // "Strict", "Lax", "None" or "" (not set)
    std::string path;
};

class Browser {
  public:
    // Empty when this machine can run the browser (node on PATH, Chromium at
    // $TKA_CHROMIUM or /usr/bin/chromium, tests/browser/node_modules installed by
    // scripts/browser-deps.sh); otherwise why not, as a sentence.
    static std::string unavailable_reason();

    // Starts the driver and waits for Chromium to be ready (up to 60 s). stderr of Node
    // and Chromium goes to `log_path`.
    explicit Browser(std::string log_path);
    // Closes the browser (quit, then the driver process is stopped by its PID).
    ~Browser();
    Browser(const Browser&) = delete;
    Browser& operator=(const Browser&) = delete;

    Navigation open(const std::string& url);  // the driver's goto
    void fill(const std::string& selector, const std::string& value);
    Navigation click(const std::string& selector);
    Navigation press(const std::string& key);  // "Enter", "Tab", " ", …
    std::string text(const std::string& selector);
    bool exists(const std::string& selector);  // now, without waiting
    // Waits until an element matches (e.g. "#status:not(:empty)" after a script ran).
    void wait_for(const std::string& selector);
    bool visible(const std::string& selector);
    std::optional<std::string> attr(const std::string& selector, const std::string& name);
    int count(const std::string& selector);
    std::string focused();  // "input#id.class[name=n]" of the focused element
    void screenshot(const std::string& path, bool full_page = false);
    std::string url();
    std::vector<CookieFlags> cookies();
    std::vector<std::string> page_errors();  // uncaught script errors so far

    // The last `lines` lines of Node's and Chromium's stderr.
    std::string log_tail(std::size_t lines = 40) const;
    const std::string& log_path() const { return log_path_; }

  private:
    nlohmann::json call(const nlohmann::json& command,
                        std::chrono::milliseconds timeout = std::chrono::seconds(15));
    [[noreturn]] void fail(const std::string& what) const;

    std::string log_path_;
    std::unique_ptr<PipedProcess> driver_;
};

}  // namespace tka::test
