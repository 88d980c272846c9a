// Answer shapes and audit entries shared by the dashboard's presenters (see
// admin_context.hpp).
#include "tokend/admin_context.hpp"

#include <nlohmann/json.hpp>

#include "common/identifiers.hpp"

namespace tka::tokend::admin {

AuditEntry AdminContext::audit_entry(std::string action) const {
    AuditEntry e;
    e.action = std::move(action);
    e.admin = session.admin;
    e.remote = request.remote;
    // Only well-formed identifiers: a path can hold anything.
    if (ids::is_org_id(route.org_id)) {
        e.org_id = route.org_id;
    }
    if (ids::is_key_id(route.key_id)) {
        e.key_id = route.key_id;
    }
    if (ids::is_token_id(route.token_id)) {
        e.token_id = route.token_id;
    }
    return e;
}

ApiResponse json_answer(int status, std::string body) {
    ApiResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

ApiResponse json_error(int status, std::string code, std::string description) {
    nlohmann::json body = {{"error", code}, {"error_description", std::move(description)}};
    ApiResponse r =
        json_answer(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    r.error = std::move(code);
    return r;
}

ApiResponse html_answer(int status, std::string body) {
    ApiResponse r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = "text/html; charset=utf-8";
    if (status >= 400) {
        r.error = status == 401 ? "unauthorized" : status == 403 ? "forbidden" : "refused";
    }
    return r;
}

ApiResponse redirect(std::string location) {
    ApiResponse r;
    r.status = 303;
    r.content_type = "text/plain; charset=utf-8";
    r.headers.emplace_back("Location", std::move(location));
    return r;
}

}  // namespace tka::tokend::admin
