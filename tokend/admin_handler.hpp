// The operator dashboard behind tokend's admin listener (docs/dashboard.md): one complete
// request in, one answer out, on an admin worker (blocking on Redis and on scrypt is fine
// there; the token endpoints have their own workers). In order:
//   route (404, 405 with Allow) -> Origin of a state change (403) -> the static assets and
//   sign-in, which need no session -> the session cookie (401; a page GET is sent to the
//   login page instead) -> the CSRF token of a state change (403) -> the JSON API or the
//   pages (admin_api.hpp, admin_html.hpp).
// Every answer carries the admin security headers (admin_request.hpp). Thread-safe: the
// admin workers call handle() concurrently.
#pragma once

#include <functional>

#include "common/admin_store.hpp"
#include "common/redis.hpp"
#include "common/replica_fence.hpp"
#include "tokend/admin_login_throttle.hpp"
#include "tokend/admin_pages.hpp"
#include "tokend/admin_request.hpp"
#include "tokend/api.hpp"
#include "tokend/request_log.hpp"

namespace tka::tokend::admin {

// Request bodies of the admin listener (forms and JSON), bytes.
inline constexpr std::size_t kMaxAdminBodyBytes = 16 * 1024;

struct AdminOptions {
    bool tls = false;  // the listener speaks TLS: the cookie is Secure
    SessionTimeouts timeouts;
    FenceObserver fence;           // told about every replica fence an action runs
    std::function<Usage()> usage;  // the usage page's data; unset: no series
};

class AdminHandler {
  public:
    AdminHandler(AdminOptions options, RequestLog& log);

    ApiResponse handle(const AdminRequest& request, RedisConnection& redis);

  private:
    ApiResponse route(const AdminRequest& request, RedisConnection& redis);
    ApiResponse login(const AdminRequest& request, bool api, RedisConnection& redis);
    ApiResponse logout(const AdminRequest& request, bool api, const AdminSession& session,
                       AdminStore& admins);

    AdminOptions options_;
    RequestLog& log_;
    LoginThrottle throttle_;
};

}  // namespace tka::tokend::admin
