// The operator dashboard's HTML routes over HTTP (docs/dashboard.md), against a real Redis
// and a real tokend: the login form, sign-in by form (303 + cookie), pages that send a
// signed-out browser back to the login page, forms refused without their csrf field, a
// change answered 303 with its fixed flash sentence, and a validation error shown on the
// page with 400. The real-browser tests (tests/browser/) drive the same routes in Chromium.
#include <catch2/catch.hpp>

#include "tests/tokend/admin_harness.hpp"
#include "tokend/form_body.hpp"

using namespace tka::test;

namespace {

// The value of the first hidden csrf field of a page.
std::string csrf_of(const std::string& page) {
    const std::string marker = "name=\"csrf\" value=\"";
    const auto at = page.find(marker);
    if (at == std::string::npos) {
        return {};
    }
    const auto start = at + marker.size();
    return page.substr(start, page.find('"', start) - start);
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("dashboard pages: sign in by form, browse, change, sign out", "[tokend][admin]") {
    RedisServer redis;
    AdminTokend tokend(redis);
    auto admin = make_admin(redis, "alice");
    AdminClient browser(tokend.admin_port());

    auto login = browser.send("GET", "/");
    TKA_REQUIRE_STATUS(login, 200, tokend);
    check_admin_headers(login);
    CHECK(contains(login.header("Content-Type"), "text/html"));
    CHECK(contains(login.body, "<form id=\"login\""));
    auto css = browser.send("GET", "/assets/dashboard.css");
    TKA_REQUIRE_STATUS(css, 200, tokend);
    CHECK(contains(css.header("Content-Type"), "text/css"));

    // Signed out: pages lead to the login page, forms are refused.
    auto orgs = browser.send("GET", "/orgs");
    TKA_REQUIRE_STATUS(orgs, 303, tokend);
    CHECK(orgs.header("Location") == "/");
    TKA_REQUIRE_STATUS(browser.form("/orgs", "name=Acme"), 401, tokend);

    auto wrong = browser.form("/login", "name=alice&password=wrong");
    TKA_REQUIRE_STATUS(wrong, 401, tokend);
    CHECK(contains(wrong.body, "id=\"error\""));
    CHECK(contains(wrong.body, "Wrong name or password."));
    CHECK(browser.cookie.empty());

    auto signed_in =
        browser.form("/login", "name=alice&password=" + tka::tokend::form_encode(admin.password));
    TKA_REQUIRE_STATUS(signed_in, 303, tokend);
    CHECK(signed_in.header("Location") == "/orgs");
    CHECK(contains(signed_in.header("Set-Cookie"), "HttpOnly"));
    CHECK_FALSE(browser.cookie.empty());
    auto home = browser.send("GET", "/");
    TKA_REQUIRE_STATUS(home, 303, tokend);
    CHECK(home.header("Location") == "/orgs");

    orgs = browser.send("GET", "/orgs");
    TKA_REQUIRE_STATUS(orgs, 200, tokend);
    check_admin_headers(orgs);
    CHECK(contains(orgs.body, "<table id=\"orgs\""));
    const std::string csrf = csrf_of(orgs.body);
    REQUIRE_FALSE(csrf.empty());

    // A form without its csrf field, or with another one, changes nothing.
    auto forged = browser.form("/orgs", "name=Acme&ttl=60");
    TKA_REQUIRE_STATUS(forged, 403, tokend);
    CHECK(contains(forged.body, "id=\"error\""));
    TKA_REQUIRE_STATUS(browser.form("/orgs", "name=Acme&csrf=x" + csrf), 403, tokend);
    // A broken form is 400; a bad name is shown on the page with 400.
    TKA_REQUIRE_STATUS(browser.form("/orgs", "name=%zz&csrf=" + csrf), 400, tokend);
    auto bad = browser.form("/orgs", "name=Evil%E2%80%AEgro&ttl=60&csrf=" + csrf);
    TKA_REQUIRE_STATUS(bad, 400, tokend);
    CHECK(contains(bad.body, "id=\"error\""));
    CHECK(contains(bad.body, "<table id=\"orgs\""));
    bad = browser.form("/orgs", "name=Acme&ttl=0&csrf=" + csrf);
    TKA_REQUIRE_STATUS(bad, 400, tokend);

    auto created = browser.form("/orgs", "name=Acme+%26+Co&ttl=60&token_auth=on&csrf=" + csrf);
    TKA_REQUIRE_STATUS(created, 200, tokend);
    CHECK(contains(created.body, "id=\"new-secret-key\">sk_"));
    std::string org_id;
    {
        tka::RedisConnection conn = redis.connect();
        auto all = tka::OrgStore(conn).list();
        REQUIRE(all.size() == 1);
        CHECK(all[0].name == "Acme & Co");
        CHECK(all[0].token_auth);
        org_id = all[0].org_id;
    }

    auto off = browser.form("/orgs/" + org_id + "/token-auth", "token_auth=off&csrf=" + csrf);
    TKA_REQUIRE_STATUS(off, 303, tokend);
    CHECK(off.header("Location") == "/orgs/" + org_id + "?done=token-auth-off");
    auto page = browser.send("GET", off.header("Location"));
    TKA_REQUIRE_STATUS(page, 200, tokend);
    CHECK(contains(page.body, "id=\"flash\""));
    CHECK(contains(page.body, "Token-based auth is off"));
    // An unknown ?done= code shows nothing.
    page = browser.send("GET", "/orgs/" + org_id + "?done=%3Cscript%3E");
    TKA_REQUIRE_STATUS(page, 200, tokend);
    CHECK_FALSE(contains(page.body, "id=\"flash\""));
    CHECK_FALSE(contains(page.body, "<script>"));

    auto ttl = browser.form("/orgs/" + org_id + "/ttl", "ttl=2592001&csrf=" + csrf);
    TKA_REQUIRE_STATUS(ttl, 400, tokend);
    CHECK(contains(ttl.body, "id=\"error\""));
    TKA_REQUIRE_STATUS(browser.send("GET", "/orgs/org_zzzzzzzzzzzz"), 404, tokend);
    const std::vector<std::string> pages = {"/brokers", "/usage", "/orgs/" + org_id + "/keys",
                                            "/orgs/" + org_id + "/tokens?email=a%40example.com"};
    for (const std::string& path : pages) {
        INFO(path);
        TKA_REQUIRE_STATUS(browser.send("GET", path), 200, tokend);
    }

    const std::string cookie = browser.cookie;
    auto out = browser.form("/logout", "csrf=" + csrf);
    TKA_REQUIRE_STATUS(out, 303, tokend);
    CHECK(out.header("Location") == "/");
    CHECK(browser.cookie.empty());
    browser.cookie = cookie;
    TKA_REQUIRE_STATUS(browser.send("GET", "/orgs"), 303, tokend);
}
