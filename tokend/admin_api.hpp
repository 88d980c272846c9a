// The dashboard's JSON API under /admin/api/ (docs/dashboard.md): the actions of
// admin_actions.hpp with JSON bodies in and out, in the shapes tokenctl --json prints
// (common/json_views.hpp), and errors as {"error", "error_description"}. Sign-in, sign-out
// and the session/CSRF checks happen before (admin_handler.hpp).
#pragma once

#include "tokend/admin_context.hpp"

namespace tka::tokend::admin {

ApiResponse serve_api(AdminContext& ctx);

}  // namespace tka::tokend::admin
