// The admin listener's request checks without a network: the route table (captures, 405
// with Allow, which routes change state), the session cookie, CSRF comparison and Origin.
#include <catch2/catch.hpp>

#include "tokend/admin_auth.hpp"
#include "tokend/admin_routes.hpp"

using namespace tka::tokend::admin;

TEST_CASE("admin routes: paths, captures, methods", "[tokend][unit][admin]") {
    auto r = find_admin_route("POST", "/orgs/org_abc/keys/key_def/revoke");
    REQUIRE(r.match);
    CHECK(r.match->route == AdminRoute::key_revoke);
    CHECK(r.match->org_id == "org_abc");
    CHECK(r.match->key_id == "key_def");
    CHECK(r.match->state_change);
    CHECK_FALSE(r.match->api);

    r = find_admin_route("HEAD", "/admin/api/orgs/org_abc/tokens");
    REQUIRE(r.match);
    CHECK(r.match->route == AdminRoute::api_tokens);
    CHECK(r.match->api);
    CHECK_FALSE(r.match->state_change);

    r = find_admin_route("PATCH", "/admin/api/orgs/org_abc");
    REQUIRE(r.match);
    CHECK(r.match->route == AdminRoute::api_org_update);
    CHECK(action_name(r.match->route) == "org.update");

    r = find_admin_route("DELETE", "/orgs");
    CHECK_FALSE(r.match);
    CHECK(r.path_known);
    CHECK(r.allow == "GET, HEAD, POST");

    for (const char* path : {"", "/nothing", "/orgs/", "//orgs", "/orgs//keys", "/admin/api",
                             "/admin/api/", "/v2/tokens/create", "/orgs/a/keys/b"}) {
        INFO(path);
        r = find_admin_route("GET", path);
        CHECK_FALSE(r.match);
        CHECK_FALSE(r.path_known);
    }
    CHECK(find_admin_route("GET", "/admin/api/nothing").api);
}

TEST_CASE("admin auth: the session cookie", "[tokend][unit][admin]") {
    CHECK(session_cookie("tka_admin=abc") == "abc");
    CHECK(session_cookie("theme=dark; tka_admin=abc; other=1") == "abc");
    CHECK(session_cookie("tka_admin=\"abc\"") == "abc");
    CHECK(session_cookie("xtka_admin=abc") == std::nullopt);
    CHECK(session_cookie("tka_admin=") == std::nullopt);
    CHECK(session_cookie("") == std::nullopt);
    CHECK(session_cookie("tka_admin=first; tka_admin=second") == "first");

    CHECK(session_cookie_header("ID", false) == "tka_admin=ID; Path=/; HttpOnly; SameSite=Strict");
    CHECK(session_cookie_header("ID", true) ==
          "tka_admin=ID; Path=/; HttpOnly; SameSite=Strict; Secure");
    CHECK(cleared_cookie_header(false).find("Max-Age=0") != std::string::npos);
}

TEST_CASE("admin auth: CSRF tokens and Origin", "[tokend][unit][admin]") {
    CHECK(csrf_matches("token", "token"));
    CHECK_FALSE(csrf_matches("token", "tokem"));
    CHECK_FALSE(csrf_matches("token", "token2"));
    CHECK_FALSE(csrf_matches("", ""));

    CHECK(origin_allowed("", "127.0.0.1:8081"));
    CHECK(origin_allowed("http://127.0.0.1:8081", "127.0.0.1:8081"));
    CHECK(origin_allowed("https://Admin.Example:443", "admin.example:443"));
    CHECK_FALSE(origin_allowed("http://127.0.0.1:8082", "127.0.0.1:8081"));
    CHECK_FALSE(origin_allowed("http://evil.example", "127.0.0.1:8081"));
    CHECK_FALSE(origin_allowed("null", "127.0.0.1:8081"));
    CHECK_FALSE(origin_allowed("ftp://127.0.0.1:8081", "127.0.0.1:8081"));
    CHECK_FALSE(origin_allowed("http://", ""));
}
