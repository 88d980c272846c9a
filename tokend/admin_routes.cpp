// The admin route table (see admin_routes.hpp).
#include "tokend/admin_routes.hpp"

#include <array>
#include <vector>

namespace tka::tokend::admin {

namespace {

struct Entry {
    std::string_view method;
    std::string_view pattern;  // "{org}", "{key}", "{token}" capture one path segment
    AdminRoute route;
};

constexpr std::array kTable = std::to_array<Entry>({
    {"GET", "/", AdminRoute::login_page},
    {"POST", "/login", AdminRoute::login},
    {"POST", "/logout", AdminRoute::logout},
    {"GET", "/orgs", AdminRoute::orgs_page},
    {"POST", "/orgs", AdminRoute::org_create},
    {"GET", "/orgs/{org}", AdminRoute::org_page},
    {"POST", "/orgs/{org}/token-auth", AdminRoute::org_token_auth},
    {"POST", "/orgs/{org}/ttl", AdminRoute::org_ttl},
    {"GET", "/orgs/{org}/keys", AdminRoute::keys_page},
    {"POST", "/orgs/{org}/keys", AdminRoute::key_create},
    {"POST", "/orgs/{org}/keys/import", AdminRoute::key_import},
    {"POST", "/orgs/{org}/keys/{key}/revoke", AdminRoute::key_revoke},
    {"GET", "/orgs/{org}/tokens", AdminRoute::tokens_page},
    {"POST", "/orgs/{org}/tokens/{token}/revoke", AdminRoute::token_revoke},
    {"POST", "/orgs/{org}/users/revoke", AdminRoute::user_revoke},
    {"GET", "/brokers", AdminRoute::brokers_page},
    {"GET", "/usage", AdminRoute::usage_page},
    {"GET", "/assets/dashboard.css", AdminRoute::asset_css},
    {"GET", "/assets/dashboard.js", AdminRoute::asset_js},
    {"POST", "/admin/api/login", AdminRoute::api_login},
    {"POST", "/admin/api/logout", AdminRoute::api_logout},
    {"GET", "/admin/api/session", AdminRoute::api_session},
    {"GET", "/admin/api/orgs", AdminRoute::api_orgs},
    {"POST", "/admin/api/orgs", AdminRoute::api_org_create},
    {"GET", "/admin/api/orgs/{org}", AdminRoute::api_org},
    {"PATCH", "/admin/api/orgs/{org}", AdminRoute::api_org_update},
    {"GET", "/admin/api/orgs/{org}/keys", AdminRoute::api_keys},
    {"POST", "/admin/api/orgs/{org}/keys", AdminRoute::api_key_create},
    {"POST", "/admin/api/orgs/{org}/keys/import", AdminRoute::api_key_import},
    {"DELETE", "/admin/api/orgs/{org}/keys/{key}", AdminRoute::api_key_revoke},
    {"GET", "/admin/api/orgs/{org}/tokens", AdminRoute::api_tokens},
    {"POST", "/admin/api/orgs/{org}/tokens/{token}/revoke", AdminRoute::api_token_revoke},
    {"POST", "/admin/api/orgs/{org}/users/revoke", AdminRoute::api_user_revoke},
    {"GET", "/admin/api/brokers", AdminRoute::api_brokers},
    {"GET", "/admin/api/usage", AdminRoute::api_usage},
});

// The next '/'-separated segment of `s` (which starts after a '/').
std::string_view next_segment(std::string_view& s) {
    const auto slash = s.find('/');
    std::string_view segment = s.substr(0, slash);
    s = slash == std::string_view::npos ? std::string_view() : s.substr(slash + 1);
    return segment;
}

// Whether `path` fits `pattern`; fills the captures of `match`.
bool matches(std::string_view pattern, std::string_view path, RouteMatch& match) {
    if (pattern == "/" || path == "/") {
        return pattern == path;
    }
    if (pattern.empty() || path.empty() || path.front() != '/' || path.back() == '/') {
        return false;  // not absolute, or a trailing '/'
    }
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    while (!pattern.empty() || !path.empty()) {
        if (pattern.empty() || path.empty()) {
            return false;
        }
        const std::string_view want = next_segment(pattern);
        const std::string_view got = next_segment(path);
        if (got.empty()) {
            return false;  // "//" or a trailing '/'
        }
        if (want == "{org}") {
            match.org_id = std::string(got);
        } else if (want == "{key}") {
            match.key_id = std::string(got);
        } else if (want == "{token}") {
            match.token_id = std::string(got);
        } else if (want != got) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string_view action_name(AdminRoute route) {
    switch (route) {
        case AdminRoute::login:
        case AdminRoute::api_login:
            return "login";
        case AdminRoute::logout:
        case AdminRoute::api_logout:
            return "logout";
        case AdminRoute::org_create:
        case AdminRoute::api_org_create:
            return "org.create";
        case AdminRoute::org_token_auth:
        case AdminRoute::org_ttl:
        case AdminRoute::api_org_update:
            return "org.update";
        case AdminRoute::key_create:
        case AdminRoute::api_key_create:
            return "key.create";
        case AdminRoute::key_import:
        case AdminRoute::api_key_import:
            return "key.import";
        case AdminRoute::key_revoke:
        case AdminRoute::api_key_revoke:
            return "key.revoke";
        case AdminRoute::token_revoke:
        case AdminRoute::api_token_revoke:
            return "token.revoke";
        case AdminRoute::user_revoke:
        case AdminRoute::api_user_revoke:
            return "user.revoke";
        default:
            return "";
    }
}

RouteResult find_admin_route(std::string_view method, std::string_view path) {
    RouteResult result;
    result.api = path == "/admin/api" || path.substr(0, 11) == "/admin/api/";
    const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
    for (const Entry& entry : kTable) {
        RouteMatch match;
        match.route = entry.route;
        if (!matches(entry.pattern, path, match)) {
            continue;
        }
        if (!result.path_known) {
            result.path_known = true;
        } else {
            result.allow.append(", ");
        }
        result.allow.append(entry.method);
        if (entry.method == "GET") {
            result.allow.append(", HEAD");
        }
        if (entry.method == wanted && !result.match) {
            match.api = result.api;
            match.state_change = entry.method != "GET";
            result.match = std::move(match);
        }
    }
    return result;
}

}  // namespace tka::tokend::admin
