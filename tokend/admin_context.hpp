// One signed-in request of the admin listener as the two presenters see it (admin_api.hpp
// for /admin/api/, admin_html.hpp for the pages): the request, its route, the session, the
// actions over this worker's Redis connection, and the audit log. Also the few answer
// shapes both presenters build (JSON, HTML, a 303 redirect) and audited(), which runs one
// action and writes its audit line whatever the outcome, so that no presenter can forget
// one.
#pragma once

#include <functional>
#include <string>

#include "common/admin_store.hpp"
#include "common/errors.hpp"
#include "common/replica_wait.hpp"
#include "tokend/admin_actions.hpp"
#include "tokend/admin_audit.hpp"
#include "tokend/admin_pages.hpp"
#include "tokend/admin_request.hpp"
#include "tokend/admin_routes.hpp"
#include "tokend/api.hpp"
#include "tokend/form_body.hpp"

namespace tka::tokend::admin {

struct AdminContext {
    const AdminRequest& request;
    const RouteMatch& route;
    const AdminSession& session;
    Actions& actions;
    RequestLog& log;
    const std::function<Usage()>& usage;  // the usage page's data
    const FormFields& form;               // the HTML form posted, or the query of a GET
    UnixSeconds now = 0;

    // An audit entry for this request: action, admin, remote and the route's well-formed
    // identifiers filled in.
    AuditEntry audit_entry(std::string action) const;
};

ApiResponse json_answer(int status, std::string body);
ApiResponse json_error(int status, std::string code, std::string description);
ApiResponse html_answer(int status, std::string body);
ApiResponse redirect(std::string location);  // 303 See Other

// Runs `action` (returning void or a value), writes the audit line `entry` with the
// outcome ("ok", the ActionError's code, "unavailable"), rethrows any failure. `finish`
// adds what only the result knows (revoked count, new ids) to the entry.
template <typename F, typename Finish>
auto audited(const AdminContext& ctx, AuditEntry entry, F&& action, Finish&& finish)
    -> decltype(action()) {
    try {
        if constexpr (std::is_void_v<decltype(action())>) {
            action();
            audit(ctx.log, entry);
        } else {
            auto result = action();
            finish(entry, result);
            audit(ctx.log, entry);
            return result;
        }
    } catch (const ActionError& e) {
        entry.outcome = e.code();
        audit(ctx.log, entry);
        throw;
    } catch (const RedisError&) {
        entry.outcome = "unavailable";
        audit(ctx.log, entry);
        throw;
    }
}

template <typename F>
auto audited(const AdminContext& ctx, AuditEntry entry, F&& action) -> decltype(action()) {
    return audited(ctx, std::move(entry), std::forward<F>(action), [](AuditEntry&, const auto&) {});
}

}  // namespace tka::tokend::admin
