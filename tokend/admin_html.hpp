// The dashboard's pages and forms (docs/dashboard.md): the actions of admin_actions.hpp
// presented as server-rendered HTML (admin_pages.hpp). A form that succeeds is answered
// 303 to the page it changed with ?done=CODE, which that page shows as one of a fixed set
// of sentences (nothing from the URL is ever shown as is); a form that fails re-renders
// its page with #error and the status (400, 404, 409). Creating an organization or a key
// answers 200 with the page that shows the secret once.
#pragma once

#include "tokend/admin_context.hpp"

namespace tka::tokend::admin {

ApiResponse serve_html(AdminContext& ctx);

// The sentence a ?done= code stands for, "" for an unknown code.
std::string_view done_sentence(std::string_view code);

}  // namespace tka::tokend::admin
