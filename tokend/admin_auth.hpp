// How a request to the admin listener proves who sent it (docs/dashboard.md):
//  - the session cookie `tka_admin=<session id>; Path=/; HttpOnly; SameSite=Strict`
//    (`; Secure` on a TLS listener): the id is the only secret the browser keeps; Redis
//    holds its digest (common/admin_store.hpp);
//  - for every state change, the session's CSRF token, as the form field `csrf` or the
//    header X-CSRF-Token, compared in constant time;
//  - an Origin header, when the browser sends one, naming the listener itself (its host
//    and port equal the Host header), so that another site's page cannot drive it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tka::tokend::admin {

inline constexpr std::string_view kSessionCookie = "tka_admin";

// The session id in a Cookie header ("a=1; tka_admin=ID; b=2"), nullopt when absent or
// empty. Only the first tka_admin counts.
std::optional<std::string> session_cookie(std::string_view cookie_header);

// The Set-Cookie value that starts a session / that ends it in the browser.
std::string session_cookie_header(std::string_view session_id, bool secure);
std::string cleared_cookie_header(bool secure);

// Whether `given` equals the session's CSRF token `expected` (constant time for tokens of
// equal length; an empty `expected` never matches).
bool csrf_matches(std::string_view expected, std::string_view given);

// Whether a request with this Origin may change something: no Origin, or an origin whose
// host[:port] is the Host header (case-insensitive). "null" never matches.
bool origin_allowed(std::string_view origin, std::string_view host);

}  // namespace tka::tokend::admin
