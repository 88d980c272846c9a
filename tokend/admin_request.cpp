// The security headers of every admin answer (see admin_request.hpp).
#include "tokend/admin_request.hpp"

namespace tka::tokend {

void add_admin_security_headers(ApiResponse& response) {
    // Pages hold CSRF tokens and secrets shown once: never cached, never framed, never
    // sniffed into another type, never named in a Referer.
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("Content-Security-Policy",
                                  "default-src 'self'; frame-ancestors 'none'");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Referrer-Policy", "same-origin");
}

}  // namespace tka::tokend
