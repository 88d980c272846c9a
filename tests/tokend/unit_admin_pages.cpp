// The dashboard's pages as a browser receives them: a complete, balanced HTML5 document per
// page, hostile names and e-mails shown as text (never markup), the elements, names and
// form actions of the DOM contract in admin_pages.hpp, a csrf field in every form that
// changes something, and nothing inline that the Content-Security-Policy would block.
// Every page is also written to <build>/artifacts/pages/ (with the assets beside it) so a
// person can open them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tokend/admin_assets.hpp"
#include "tokend/admin_pages.hpp"

using namespace tka::tokend::admin;

namespace {

constexpr tka::UnixSeconds kNow = 1774620000;  // 2026-03-27T14:00:00Z
const std::string kScript = "<script>alert(1)</script>";
const std::string kScriptEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
const std::string kQuotes = "\"'&";
const std::string kQuotesEscaped = "&quot;&#39;&amp;";
const std::string kCsrf = "csrf-token-123";

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// The start tag that carries `attribute` (e.g. id="orgs"), "" when there is none.
std::string start_tag(const std::string& html, const std::string& attribute) {
    const std::size_t at = html.find(attribute);
    if (at == std::string::npos) {
        return {};
    }
    const std::size_t open = html.rfind('<', at);
    return html.substr(open, html.find('>', at) - open + 1);
}

// The element that carries `attribute`, from its start tag to its own end tag (no nesting
// of the same element inside it, which holds for these pages).
std::string element(const std::string& html, const std::string& attribute) {
    const std::string tag = start_tag(html, attribute);
    if (tag.empty()) {
        return {};
    }
    const std::string name = tag.substr(1, tag.find_first_of(" >") - 1);
    const std::size_t open = html.find(tag);
    const std::size_t close = html.find("</" + name + ">", open);
    return html.substr(open, close + name.size() + 3 - open);
}

// The text of an element without its tags.
std::string text_of(const std::string& el) {
    std::string out;
    bool in_tag = false;
    for (const char c : el) {
        if (c == '<') {
            in_tag = true;
        } else if (c == '>') {
            in_tag = false;
        } else if (!in_tag) {
            out += c;
        }
    }
    return out;
}

// Each start tag `<name ...>` in the document, in order.
std::vector<std::pair<std::size_t, std::string>> start_tags(const std::string& html,
                                                            const std::string& name) {
    std::vector<std::pair<std::size_t, std::string>> out;
    const std::string open = "<" + name;
    for (std::size_t at = html.find(open); at != std::string::npos; at = html.find(open, at + 1)) {
        const char next = html[at + open.size()];
        if (next == ' ' || next == '>') {
            out.emplace_back(at, html.substr(at, html.find('>', at) - at + 1));
        }
    }
    return out;
}

// The value of attribute `name` in a start tag, "" when absent.
std::string attribute(const std::string& tag, const std::string& name) {
    const std::string key = " " + name + "=\"";
    const std::size_t at = tag.find(key);
    if (at == std::string::npos) {
        return {};
    }
    const std::size_t begin = at + key.size();
    return tag.substr(begin, tag.find('"', begin) - begin);
}

// Every element closed in order (void elements excepted): a well-formed document.
void check_balanced(const std::string& html) {
    static const std::vector<std::string> kVoid = {"meta", "link", "input", "br", "hr", "img"};
    std::vector<std::string> open;
    for (std::size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
        const bool closing = html[at + 1] == '/';
        std::size_t begin = at + (closing ? 2 : 1);
        std::size_t end = begin;
        while (end < html.size() && std::isalnum(static_cast<unsigned char>(html[end]))) {
            ++end;
        }
        if (end == begin) {
            continue;  // <!doctype html>
        }
        const std::string name = html.substr(begin, end - begin);
        if (std::find(kVoid.begin(), kVoid.end(), name) != kVoid.end()) {
            continue;
        }
        if (!closing) {
            open.push_back(name);
        } else {
            INFO("closing </" << name << "> at offset " << at);
            REQUIRE(!open.empty());
            REQUIRE(open.back() == name);
            open.pop_back();
        }
    }
    CHECK(open.empty());
}

// No event handler attributes (onclick=, onload=, ...): the CSP would block them.
bool has_event_handler(const std::string& html) {
    for (std::size_t at = html.find(" on"); at != std::string::npos;
         at = html.find(" on", at + 1)) {
        std::size_t end = at + 3;
        while (end < html.size() && std::islower(static_cast<unsigned char>(html[end]))) {
            ++end;
        }
        if (end > at + 3 && end < html.size() && html[end] == '=') {
            return true;
        }
    }
    return false;
}

// What every page shares: the document's frame, and what the CSP allows.
void check_document(const std::string& html, bool signed_in) {
    INFO(html);
    CHECK(html.rfind("<!doctype html>\n<html lang=\"en\">", 0) == 0);
    CHECK(has(html, "<meta charset=\"utf-8\">"));
    CHECK(has(html, "<meta name=\"viewport\""));
    const std::string head = html.substr(0, html.find("</head>"));
    CHECK(count(head, "<title>") == 1);
    CHECK_FALSE(has(head, "<title> "));
    CHECK(count(html, "<main id=\"main\"") == 1);
    CHECK(has(html, "<a class=\"skip-link\" href=\"#main\">"));
    CHECK(has(html, "<link rel=\"stylesheet\" href=\"/assets/dashboard.css\">"));
    // Content-Security-Policy: no inline script, no inline style, no event handlers.
    CHECK(count(html, "<script") == 1);
    CHECK(has(html, "<script src=\"/assets/dashboard.js\" defer></script>"));
    CHECK_FALSE(has(html, "style="));
    CHECK_FALSE(has(html, "<style"));
    CHECK_FALSE(has_event_handler(html));
    CHECK_FALSE(has(html, "javascript:"));
    check_balanced(html);
    // Every input has a label or is hidden; every label points at an existing id.
    for (const auto& [at, tag] : start_tags(html, "input")) {
        if (attribute(tag, "type") == "hidden") {
            continue;
        }
        INFO(tag);
        REQUIRE_FALSE(attribute(tag, "id").empty());
        CHECK(has(html, "<label for=\"" + attribute(tag, "id") + "\""));
    }
    // Every button says what it does.
    for (const auto& [at, tag] : start_tags(html, "button")) {
        const std::size_t text = at + tag.size();
        CHECK(html.find('<', text) > text);
    }
    // Every form that changes something is a POST with the session's csrf field.
    for (const auto& [at, tag] : start_tags(html, "form")) {
        INFO(tag);
        if (attribute(tag, "id") == "filter") {
            CHECK(attribute(tag, "method") == "get");
            continue;
        }
        CHECK(attribute(tag, "method") == "post");
        if (attribute(tag, "id") == "login") {
            continue;  // no session yet
        }
        const std::string body = html.substr(at, html.find("</form>", at) - at);
        CHECK(has(body, "<input type=\"hidden\" name=\"csrf\" value=\"" + kCsrf + "\">"));
    }
    if (signed_in) {
        CHECK(has(html, "<a href=\"/orgs\""));
        CHECK(has(html, "<a href=\"/brokers\""));
        CHECK(has(html, "<a href=\"/usage\""));
        CHECK(has(start_tag(html, "id=\"logout\""), "action=\"/logout\""));
        CHECK(has(element(html, "id=\"logout\""), "<button type=\"submit\">Sign out</button>"));
    }
}

Frame frame_of(const std::string& admin = "root") {
    Frame f;
    f.admin = admin;
    f.csrf = kCsrf;
    f.now = kNow;
    return f;
}

tka::Organization org(const std::string& id, const std::string& name, bool token_auth) {
    tka::Organization o;
    o.org_id = id;
    o.name = name;
    o.token_auth = token_auth;
    o.ttl = 3600;
    o.created_at = kNow - 86400 * 3;
    o.user_salt = "salt-never-shown";
    return o;
}

tka::TokenRecord token(const std::string& id, const std::string& email, const std::string& status,
                       tka::UnixSeconds expires_at) {
    tka::TokenRecord t;
    t.token_id = id;
    t.org_id = "org_k7xm4pqr2n5t";
    t.user_id = "u7f3k2m9q4x8p1z6";
    t.email = email;
    t.status = status;
    t.created_at = expires_at - 3600;
    t.expires_at = expires_at;
    t.ttl = 3600;
    return t;
}

tka::ReplicaRegistry sample_registry() {
    tka::ReplicaRegistry r;
    r.stream_last_id = "1774620000000-3";
    r.server_now_ms = kNow * 1000;
    auto add = [&](std::string id, std::int64_t age, std::string applied,
                   std::optional<std::int64_t> lag, std::int64_t lag_ms, bool fresh) {
        tka::ReplicaStatus s;
        s.replica_id = std::move(id);
        s.heartbeat_age_ms = age;
        s.heartbeat_ms = r.server_now_ms - age;
        s.applied_id = std::move(applied);
        s.lag_events = lag;
        s.lag_ms = lag_ms;
        s.fresh = fresh;
        r.replicas.push_back(std::move(s));
    };
    add("broker-a:" + kScript, 300, "1774620000000-3", 0, 0, true);
    add("broker-b", 800, "1774619999950-0", 2, 50, true);
    add("broker-c", 42000, "1774619950000-0", 120, 50000, false);
    return r;
}

Usage sample_usage() {
    Usage u;
    u.interval_seconds = 10;
    UsageSeries created{"Tokens created", "tokens-created", {}, 0};
    for (std::uint64_t i = 0; i < 90; ++i) {
        created.per_interval.push_back((i * 7) % 23);
        created.total += created.per_interval.back();
    }
    u.series.push_back(created);
    u.series.push_back({"Refreshes", "refreshes", {0, 0, 3}, 3});
    u.series.push_back({"Failures: " + kScript, "failures-x", {1}, 1});
    return u;
}

// Writes a page where a person can open it: <build>/artifacts/pages/NAME.html, the assets
// beside it (the absolute /assets/ links made relative so a file:// view finds them).
void keep(const std::string& name, std::string html) {
#ifdef TKA_BINARY_DIR
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(TKA_BINARY_DIR) / "artifacts" / "pages";
    fs::create_directories(dir / "assets");
    for (std::size_t at = html.find("\"/assets/"); at != std::string::npos;
         at = html.find("\"/assets/", at)) {
        html.erase(at + 1, 1);
    }
    std::ofstream(dir / (name + ".html")) << html;
    std::ofstream(dir / "assets" / "dashboard.css") << dashboard_css();
    std::ofstream(dir / "assets" / "dashboard.js") << dashboard_js();
#else
    (void)name;
    (void)html;
#endif
}

}  // namespace

TEST_CASE("pages: html_escape turns markup characters into entities", "[tokend][unit][pages]") {
    CHECK(html_escape(kScript) == kScriptEscaped);
    CHECK(html_escape(kQuotes) == kQuotesEscaped);
    CHECK(html_escape("plain text, ünïcödé") == "plain text, ünïcödé");
    CHECK(html_escape("") == "");
}

TEST_CASE("pages: login", "[tokend][unit][pages]") {
    const std::string plain = login_page("");
    check_document(plain, false);
    CHECK_FALSE(has(plain, "id=\"error\""));
    CHECK_FALSE(has(plain, "id=\"whoami\""));
    CHECK(has(plain, "<title>Sign in"));
    const std::string form = element(plain, "id=\"login\"");
    CHECK(has(start_tag(plain, "id=\"login\""), "action=\"/login\""));
    CHECK(has(form, "name=\"name\""));
    CHECK(has(start_tag(form, "name=\"password\""), "type=\"password\""));
    CHECK(has(start_tag(form, "name=\"password\""), "autocomplete=\"current-password\""));
    CHECK(has(form, "<button type=\"submit\">"));

    const std::string failed = login_page("Wrong name or password.");
    check_document(failed, false);
    CHECK(text_of(element(failed, "id=\"error\"")) == "Wrong name or password.");
    CHECK(has(start_tag(failed, "id=\"error\""), "role=\"alert\""));
    CHECK(has(login_page(kScript), kScriptEscaped));
    CHECK_FALSE(has(login_page(kScript), kScript));
    keep("login", failed);
}

TEST_CASE("pages: every signed-in page shows who is signed in, flash and error",
          "[tokend][unit][pages]") {
    Frame f = frame_of(kScript);
    f.flash = "Token auth is now off for " + kQuotes + ".";
    f.error = "The TTL must be a whole number of seconds " + kScript;
    const std::vector<std::string> pages = {
        orgs_page(f, {}),
        org_page(f, org("org_k7xm4pqr2n5t", "acme", true)),
        keys_page(f, org("org_k7xm4pqr2n5t", "acme", true), {}),
        tokens_page(f, org("org_k7xm4pqr2n5t", "acme", true), "", {}),
        brokers_page(f, {}),
        usage_page(f, {}),
        error_page(f, 404, "No such organization."),
    };
    for (const std::string& html : pages) {
        check_document(html, true);
        CHECK(text_of(element(html, "id=\"whoami\"")) == kScriptEscaped);
        CHECK_FALSE(has(html, kScript));
        CHECK_FALSE(has(html, kQuotes));
        if (!has(html, "<h1>Not found")) {
            CHECK(has(start_tag(html, "id=\"flash\""), "role=\"status\""));
            CHECK(has(element(html, "id=\"flash\""), kQuotesEscaped));
        }
        CHECK(has(start_tag(html, "id=\"error\""), "role=\"alert\""));
    }
    // No flash or error when there is none.
    const std::string quiet = orgs_page(frame_of(), {});
    CHECK_FALSE(has(quiet, "id=\"flash\""));
    CHECK_FALSE(has(quiet, "id=\"error\""));
}

TEST_CASE("pages: organizations", "[tokend][unit][pages]") {
    const std::vector<tka::Organization> orgs = {org("org_k7xm4pqr2n5t", kScript, true),
                                                 org("org_a1b2c3d4e5f6", kQuotes, false)};
    const std::string html = orgs_page(frame_of(), orgs);
    check_document(html, true);
    CHECK_FALSE(has(html, kScript));
    CHECK(has(html, kScriptEscaped));
    CHECK(has(html, kQuotesEscaped));
    CHECK_FALSE(has(html, "salt-never-shown"));
    CHECK(count(html, "<tr data-org-id=") == 2);
    const std::string row = element(html, "data-org-id=\"org_k7xm4pqr2n5t\"");
    CHECK(has(row, "<a href=\"/orgs/org_k7xm4pqr2n5t\">" + kScriptEscaped + "</a>"));
    CHECK(has(row, ">On<"));
    CHECK(has(row, "1 h"));
    CHECK(has(element(html, "data-org-id=\"org_a1b2c3d4e5f6\""), ">Off<"));
    const std::string create = element(html, "id=\"create-org\"");
    CHECK(has(start_tag(html, "id=\"create-org\""), "action=\"/orgs\""));
    CHECK(has(create, "name=\"name\""));
    CHECK(has(start_tag(create, "name=\"ttl\""), "value=\"3600\""));
    CHECK(has(start_tag(create, "name=\"token_auth\""), "type=\"checkbox\""));
    CHECK(has(start_tag(create, "name=\"token_auth\""), "value=\"on\""));
    keep("orgs", html);

    const std::string empty = orgs_page(frame_of(), {});
    check_document(empty, true);
    CHECK(has(empty, "id=\"orgs\""));
    CHECK(has(empty, "Nothing here yet"));
    CHECK(count(empty, "data-org-id=") == 0);
}

TEST_CASE("pages: organization created: the key is shown once", "[tokend][unit][pages]") {
    tka::NewOrganization created;
    created.org = org("org_k7xm4pqr2n5t", kScript, false);
    created.first_key = {"k_1234", "sk_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef012345"};
    const std::string html = org_created_page(frame_of(), created);
    check_document(html, true);
    CHECK_FALSE(has(html, kScript));
    CHECK(text_of(element(html, "id=\"new-org-id\"")) == "org_k7xm4pqr2n5t");
    CHECK(start_tag(html, "id=\"new-secret-key\"").rfind("<code", 0) == 0);
    CHECK(text_of(element(html, "id=\"new-secret-key\"")) ==
          "sk_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef012345");
    CHECK(has(start_tag(html, "id=\"copy-secret\""), "hidden"));
    CHECK(has(start_tag(html, "id=\"copy-secret\""), "type=\"button\""));
    CHECK(has(html, "shown only once"));
    CHECK(has(html, "<a href=\"/orgs/org_k7xm4pqr2n5t\">"));
    keep("org-created", html);
}

TEST_CASE("pages: organization: the token auth toggle and the TTL", "[tokend][unit][pages]") {
    const std::string on = org_page(frame_of(), org("org_k7xm4pqr2n5t", kScript, true));
    check_document(on, true);
    CHECK_FALSE(has(on, kScript));
    CHECK(has(on, "<h1>" + kScriptEscaped + "</h1>"));
    CHECK(text_of(element(on, "id=\"token-auth-state\"")) == "On");
    CHECK(has(start_tag(on, "id=\"token-auth\""), "action=\"/orgs/org_k7xm4pqr2n5t/token-auth\""));
    CHECK(has(element(on, "id=\"token-auth\""),
              "<input type=\"hidden\" name=\"token_auth\" value=\"off\">"));
    CHECK(text_of(element(on, "id=\"token-auth-toggle\"")) == "Turn off");
    CHECK(has(start_tag(on, "id=\"ttl\""), "action=\"/orgs/org_k7xm4pqr2n5t/ttl\""));
    CHECK(has(start_tag(element(on, "id=\"ttl\""), "name=\"ttl\""), "value=\"3600\""));
    CHECK(has(element(on, "id=\"ttl\""), "<button type=\"submit\">"));
    CHECK(has(on, "<a href=\"/orgs/org_k7xm4pqr2n5t/keys\">"));
    CHECK(has(on, "<a href=\"/orgs/org_k7xm4pqr2n5t/tokens\">"));
    CHECK(has(on, "2026-03-24T14:00:00Z"));
    CHECK(has(on, "(3 d ago)"));
    keep("org", on);

    const std::string off = org_page(frame_of(), org("org_k7xm4pqr2n5t", "acme", false));
    CHECK(text_of(element(off, "id=\"token-auth-state\"")) == "Off");
    CHECK(has(element(off, "id=\"token-auth\""),
              "<input type=\"hidden\" name=\"token_auth\" value=\"on\">"));
    CHECK(text_of(element(off, "id=\"token-auth-toggle\"")) == "Turn on");
}

TEST_CASE("pages: secret keys, and the key created", "[tokend][unit][pages]") {
    const tka::Organization acme = org("org_k7xm4pqr2n5t", kScript, true);
    std::vector<tka::SecretKeyInfo> keys(2);
    keys[0].key_id = "k_aaaa";
    keys[0].created_at = kNow - 120;
    keys[1].key_id = "k_bbbb";
    keys[1].created_at = kNow - 7200;
    keys[1].legacy = true;
    const std::string html = keys_page(frame_of(), acme, keys);
    check_document(html, true);
    CHECK_FALSE(has(html, kScript));
    CHECK(count(html, "<tr data-key-id=") == 2);
    const std::string row = element(html, "data-key-id=\"k_aaaa\"");
    CHECK(has(row, "(2 min ago)"));
    CHECK(has(start_tag(row, "class=\"revoke-key\""),
              "action=\"/orgs/org_k7xm4pqr2n5t/keys/k_aaaa/revoke\""));
    CHECK(has(element(row, "class=\"revoke-key\""), "Revoke</button>"));
    CHECK(has(element(html, "data-key-id=\"k_bbbb\""), "Legacy"));
    CHECK(has(start_tag(html, "id=\"create-key\""), "action=\"/orgs/org_k7xm4pqr2n5t/keys\""));
    CHECK(has(element(html, "id=\"create-key\""), "<button type=\"submit\">"));
    CHECK(
        has(start_tag(html, "id=\"import-key\""), "action=\"/orgs/org_k7xm4pqr2n5t/keys/import\""));
    CHECK(has(start_tag(html, "name=\"secret_key\""), "type=\"password\""));
    keep("keys", html);

    const std::string none = keys_page(frame_of(), acme, {});
    check_document(none, true);
    CHECK(count(none, "data-key-id=") == 0);
    CHECK(has(none, "Nothing here yet"));

    const std::string created =
        key_created_page(frame_of(), acme, {"k_cccc", "sk_0123456789abcdefghijklmnopqrstuv"});
    check_document(created, true);
    CHECK_FALSE(has(created, kScript));
    CHECK(text_of(element(created, "id=\"new-key-id\"")) == "k_cccc");
    CHECK(text_of(element(created, "id=\"new-secret-key\"")) ==
          "sk_0123456789abcdefghijklmnopqrstuv");
    CHECK(has(created, "id=\"copy-secret\""));
    CHECK(has(created, "shown only once"));
    keep("key-created", created);
}

TEST_CASE("pages: tokens: status words, revoke buttons on live tokens only",
          "[tokend][unit][pages]") {
    const tka::Organization acme = org("org_k7xm4pqr2n5t", "acme", true);
    const std::string hostile = kScript + "@example.com";
    std::vector<tka::TokenRecord> tokens = {
        token("11111111-1111-4111-8111-111111111111", hostile, "active", kNow + 3500),
        token("22222222-2222-4222-8222-222222222222", hostile, "revoked", kNow + 1000),
        token("33333333-3333-4333-8333-333333333333", hostile, "replaced", kNow + 100),
        token("44444444-4444-4444-8444-444444444444", hostile, "expired", kNow - 3),
    };
    tokens[0].refreshed_at = kNow - 3;
    const std::string all = tokens_page(frame_of(), acme, "", tokens);
    check_document(all, true);
    CHECK_FALSE(has(all, kScript));
    CHECK(has(all, kScriptEscaped));
    CHECK(count(all, "<tr data-token-id=") == 4);
    CHECK(has(start_tag(all, "id=\"filter\""), "action=\"/orgs/org_k7xm4pqr2n5t/tokens\""));
    CHECK(has(element(all, "id=\"filter\""), "name=\"email\""));
    CHECK_FALSE(has(all, "id=\"revoke-user\""));  // no e-mail chosen

    const std::string live = element(all, "data-token-id=\"11111111-1111-4111-8111-111111111111\"");
    CHECK(has(live, ">Live<"));
    CHECK(has(live, "(in 58 min)"));
    CHECK(has(live, "(3 s ago)"));
    CHECK(has(start_tag(live, "class=\"revoke-token\""),
              "action=\"/orgs/org_k7xm4pqr2n5t/tokens/11111111-1111-4111-8111-111111111111/"
              "revoke\""));
    // The e-mail links to the tokens of that e-mail, percent-encoded.
    CHECK(has(live,
              "href=\"/orgs/org_k7xm4pqr2n5t/tokens?email=%3Cscript%3Ealert%281%29%3C%2F"
              "script%3E%40example.com\""));
    for (const auto& [id, word] : std::vector<std::pair<std::string, std::string>>{
             {"22222222-2222-4222-8222-222222222222", "Revoked"},
             {"33333333-3333-4333-8333-333333333333", "Replaced"},
             {"44444444-4444-4444-8444-444444444444", "Expired"}}) {
        const std::string row = element(all, "data-token-id=\"" + id + "\"");
        INFO(row);
        CHECK(has(row, ">" + word + "<"));
        CHECK_FALSE(has(row, "revoke-token"));
        CHECK_FALSE(has(row, "<button"));
    }
    // An "active" record past its expiry is not offered for revocation either.
    const std::string late =
        tokens_page(frame_of(), acme, "",
                    {token("55555555-5555-4555-8555-555555555555", "a@b.c", "active", kNow - 1)});
    CHECK(has(late, ">Expired<"));
    CHECK_FALSE(has(late, "revoke-token"));
    keep("tokens", all);

    const std::string filtered = tokens_page(frame_of(), acme, hostile, tokens);
    check_document(filtered, true);
    CHECK_FALSE(has(filtered, kScript));
    CHECK(
        has(start_tag(filtered, "id=\"filter-email\""), "value=\"" + html_escape(hostile) + "\""));
    CHECK(has(start_tag(filtered, "id=\"revoke-user\""),
              "action=\"/orgs/org_k7xm4pqr2n5t/users/revoke\""));
    CHECK(has(element(filtered, "id=\"revoke-user\""),
              "<input type=\"hidden\" name=\"email\" value=\"" + html_escape(hostile) + "\">"));
    CHECK(has(element(filtered, "id=\"revoke-user\""), "</button>"));
    keep("tokens-filtered", filtered);

    // An e-mail with only ended tokens has nothing to revoke.
    const std::string ended =
        tokens_page(frame_of(), acme, hostile, {tokens[1], tokens[2], tokens[3]});
    CHECK_FALSE(has(ended, "id=\"revoke-user\""));

    const std::string none = tokens_page(frame_of(), acme, "", {});
    check_document(none, true);
    CHECK(has(none, "id=\"tokens\""));
    CHECK(has(none, "No tokens"));
    CHECK(count(none, "data-token-id=") == 0);
}

TEST_CASE("pages: brokers: age, applied id, lag and state", "[tokend][unit][pages]") {
    const std::string html = brokers_page(frame_of(), sample_registry());
    check_document(html, true);
    CHECK_FALSE(has(html, kScript));
    CHECK(count(html, "<tr data-replica-id=") == 3);
    const std::string a = element(html, "data-replica-id=\"broker-a:" + kScriptEscaped + "\"");
    INFO(html);
    CHECK(has(a, "0.3 s ago"));
    CHECK(has(a, "1774620000000-3"));
    CHECK(has(a, ">in sync<"));
    const std::string b = element(html, "data-replica-id=\"broker-b\"");
    CHECK(has(b, "0.8 s ago"));
    CHECK(text_of(element(b, "data-label=\"Behind (events)\"")) == "2");
    CHECK(text_of(element(b, "data-label=\"Behind (ms)\"")) == "50");
    CHECK(has(b, ">behind<"));
    const std::string c = element(html, "data-replica-id=\"broker-c\"");
    CHECK(has(c, "42 s ago"));
    CHECK(has(c, ">stale<"));
    CHECK(has(html, "Writers no longer wait for it"));
    CHECK(has(html, "refuses token CONNECTs"));
    keep("brokers", html);

    const std::string none = brokers_page(frame_of(), {});
    check_document(none, true);
    CHECK(has(none, "id=\"brokers\""));
    CHECK(has(none, "Nothing here yet"));
}

TEST_CASE("pages: usage: one inline SVG chart per series", "[tokend][unit][pages]") {
    const Usage usage = sample_usage();
    const std::string html = usage_page(frame_of(), usage);
    check_document(html, true);
    CHECK_FALSE(has(html, kScript));
    for (const UsageSeries& s : usage.series) {
        const std::string svg = start_tag(html, "id=\"chart-" + s.id + "\"");
        INFO(s.id);
        REQUIRE(svg.rfind("<svg class=\"chart\"", 0) == 0);
        CHECK(has(svg, "role=\"img\""));
        CHECK(has(element(html, "id=\"chart-" + s.id + "\""), "<title"));
        const std::string figure = element(html, "id=\"usage-" + s.id + "\"");
        CHECK(
            has(figure, "Total: <strong class=\"total\">" + std::to_string(s.total) + "</strong>"));
    }
    const std::string refreshes = element(html, "id=\"usage-refreshes\"");
    CHECK(has(refreshes, "Total: <strong class=\"total\">3</strong>"));
    CHECK(has(refreshes, "last 10 s: <strong class=\"last\">3</strong>"));
    // Zero intervals draw no bar; the others one each.
    CHECK(count(element(html, "id=\"chart-refreshes\""), "class=\"bar\"") == 1);
    keep("usage", html);

    const std::string empty = usage_page(frame_of(), Usage{});
    check_document(empty, true);
    CHECK(has(empty, "Nothing here yet"));
}

TEST_CASE("pages: error", "[tokend][unit][pages]") {
    const std::string signed_in = error_page(frame_of(), 404, "No organization " + kScript);
    check_document(signed_in, true);
    CHECK(has(signed_in, "<h1>Not found"));
    CHECK(has(element(signed_in, "id=\"error\""), kScriptEscaped));
    CHECK_FALSE(has(signed_in, kScript));
    keep("error-404", signed_in);

    Frame anonymous;
    const std::string not_signed_in = error_page(anonymous, 401, "Sign in first.");
    check_document(not_signed_in, false);
    CHECK_FALSE(has(not_signed_in, "id=\"whoami\""));
    CHECK(has(not_signed_in, "<a href=\"/\">Sign in</a>"));
}

TEST_CASE("pages: assets: a style sheet and a copy script, nothing external",
          "[tokend][unit][pages]") {
    const std::string css(dashboard_css());
    const std::string js(dashboard_js());
    CHECK(has(css, ":focus-visible"));
    CHECK(has(css, ".skip-link"));
    CHECK(has(css, "svg.chart .bar"));
    CHECK_FALSE(has(css, "@import"));
    CHECK_FALSE(has(css, "url("));
    CHECK(has(js, "copy-secret"));
    CHECK(has(js, "new-secret-key"));
    CHECK(has(js, "navigator.clipboard"));
    CHECK_FALSE(has(js, "confirm("));
    CHECK_FALSE(has(js, "http"));
    CHECK(has(std::string(kCssContentType), "text/css"));
    CHECK(has(std::string(kJsContentType), "javascript"));
}
