// What tokend's admin listener hands to the dashboard (tokend/admin_handler.hpp): one
// complete HTTP request, reduced to what the dashboard reads, and the headers every answer
// of the admin listener carries. The answer itself is an ApiResponse (tokend/api.hpp): a
// status, a content type, a body and extra headers (Set-Cookie, Location, Retry-After).
#pragma once

#include <string>

#include "tokend/api.hpp"

namespace tka::tokend {

struct AdminRequest {
    std::string method;
    std::string path;          // the target without its query string
    std::string query;         // after '?', "" when none
    std::string content_type;  // Content-Type
    std::string cookie;        // Cookie (every field joined with "; ")
    std::string origin;        // Origin, "" when absent
    std::string host;          // Host
    std::string csrf_header;   // X-CSRF-Token
    std::string body;
    std::string remote;  // client address (client_address.hpp)
};

// Adds the headers of every admin answer: Cache-Control: no-store, a Content-Security-Policy
// allowing only the listener's own resources and no framing, X-Content-Type-Options: nosniff,
// Referrer-Policy: same-origin (no referrer to other sites; "no-referrer" would make browsers
// send "Origin: null" with the dashboard's own form posts, which the Origin check refuses).
void add_admin_security_headers(ApiResponse& response);

}  // namespace tka::tokend
