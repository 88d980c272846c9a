// The browser driver itself (tests/browser/driver.mjs through tests/support/browser.hpp),
// on pages written to a temporary directory and opened as file:// URLs: typing, Enter in a
// form field, Tab, a link, a plain button, reading text and attributes, screenshots, and
// errors that name the selector. When this passes and the dashboard test fails, the fault
// is the dashboard's, not the driver's.
#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/support/browser.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tka::test;

namespace {

const char* const kFormPage = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>form</title></head><body>
<form id="search" method="get" action="result.html">
  <input name="q" autocomplete="off"><input name="n" type="number" min="1">
  <button type="submit">Go</button>
</form>
<p id="hidden" style="display:none">not shown</p>
<p id="shown" data-x="1">  Caf&eacute; &amp; &lt;tea&gt;  </p>
<a id="next" href="result.html">next</a>
<button id="plain" type="button" onclick="document.getElementById('shown').dataset.x='2'">b</button>
</body></html>)";

const char* const kResultPage = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>result</title></head><body>
<h1 id="done">Result</h1></body></html>)";

}  // namespace

TEST_CASE("the browser driver types, submits by keyboard, clicks and reads pages",
          "[browser][driver]") {
    const std::string why = Browser::unavailable_reason();
    if (!why.empty()) {
        FAIL("the browser cannot run here: " << why);
    }
    TempDir dir;
    const std::string form = dir.write("form.html", kFormPage);
    dir.write("result.html", kResultPage);
    Browser browser(dir.file("browser.log"));

    const auto opened = browser.open("file://" + form);
    CHECK(opened.navigated);
    CHECK(browser.visible("#shown"));
    CHECK_FALSE(browser.visible("#hidden"));
    CHECK_FALSE(browser.exists("#nothing"));
    CHECK(browser.text("#shown") == "Café & <tea>");
    CHECK(browser.attr("#shown", "data-x") == std::optional<std::string>("1"));
    CHECK(browser.attr("#shown", "data-y") == std::nullopt);
    CHECK(browser.count("form#search input") == 2);

    // A plain button changes the page without loading another.
    const auto plain = browser.click("#plain");
    CHECK_FALSE(plain.navigated);
    CHECK(browser.attr("#shown", "data-x") == std::optional<std::string>("2"));

    // Keyboard: type, Tab to the next field, Enter submits the form.
    browser.fill("input[name=q]", "a b");
    CHECK(browser.focused() == "input[name=q]");
    browser.press("Tab");
    CHECK(browser.focused() == "input[name=n]");
    browser.fill("input[name=n]", "7");
    const auto submitted = browser.press("Enter");
    CHECK(submitted.navigated);
    CHECK(submitted.url.find("result.html?q=a+b&n=7") != std::string::npos);
    CHECK(browser.text("#done") == "Result");

    // A form the browser itself refuses (n below its min) loads nothing.
    browser.open("file://" + form);
    browser.fill("input[name=n]", "0");
    const auto refused = browser.click("form#search button");
    CHECK_FALSE(refused.navigated);
    CHECK(browser.exists("input[name=n]:invalid"));

    // A link loads its target.
    const auto followed = browser.click("#next");
    CHECK(followed.navigated);
    CHECK(browser.url().find("result.html") != std::string::npos);

    const std::string shot = dir.file("shot.png");
    browser.screenshot(shot);
    CHECK(std::filesystem::file_size(shot) > 1000);

    // Errors name the command and the selector.
    try {
        browser.text("#missing");
        FAIL("text of a missing element did not throw");
    } catch (const BrowserError& e) {
        CHECK_THAT(e.what(), Catch::Contains("text #missing"));
    }
    CHECK(browser.page_errors().empty());
}
