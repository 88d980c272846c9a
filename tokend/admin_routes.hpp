// The admin listener's route table: every path of the operator dashboard (HTML pages) and
// of its JSON API under /admin/api/ (docs/dashboard.md), the method each accepts, and the
// identifiers a path carries (/orgs/ORG/keys/KEY/revoke). One table, so that routing, the
// 405 answers with Allow, and the question "does this request change something (CSRF)?"
// are spelled once. Identifiers are captured as they are; the actions validate them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tka::tokend::admin {

enum class AdminRoute {
    // HTML pages and forms.
    login_page,
    login,
    logout,
    orgs_page,
    org_create,
    org_page,
    org_token_auth,
    org_ttl,
    keys_page,
    key_create,
    key_import,
    key_revoke,
    tokens_page,
    token_revoke,
    user_revoke,
    brokers_page,
    usage_page,
    asset_css,
    asset_js,
    // JSON API.
    api_login,
    api_logout,
    api_session,
    api_orgs,
    api_org_create,
    api_org,
    api_org_update,
    api_keys,
    api_key_create,
    api_key_import,
    api_key_revoke,
    api_tokens,
    api_token_revoke,
    api_user_revoke,
    api_brokers,
    api_usage,
};

struct RouteMatch {
    AdminRoute route = AdminRoute::login_page;
    bool api = false;           // under /admin/api/: JSON answers
    bool state_change = false;  // POST, PATCH, DELETE: CSRF and Origin checked
    std::string org_id;         // captured {org}, "" when the path has none
    std::string key_id;         // captured {key}
    std::string token_id;       // captured {token}
};

struct RouteResult {
    std::optional<RouteMatch> match;  // the route for this method and path
    bool path_known = false;          // the path exists (match empty: 405)
    bool api = false;                 // the path is under /admin/api/ (for 404/405 bodies)
    std::string allow;                // methods of the path, as an Allow header
};

// The audit log's name of the action a route performs ("org.update"), "" for routes that
// only read.
std::string_view action_name(AdminRoute route);

// HEAD is accepted wherever GET is.
RouteResult find_admin_route(std::string_view method, std::string_view path);

}  // namespace tka::tokend::admin
