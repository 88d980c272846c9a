// tokend's request handling, independent of the HTTP library: a request (method, path,
// content type, body, remote address) goes in, a status + JSON body comes out, together
// with what the access log and metrics need to know. Routing, method checks (405 with
// Allow), rate limiting (429), size (413) and media-type (415) checks, JSON validation
// (request_parsing.hpp), and the calls into tka::OrgStore / tka::TokenStore with the
// mapping of tka::Denied and tka::RedisError to statuses (docs/http-api.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/redis.hpp"
#include "common/replica_fence.hpp"
#include "tokend/metrics.hpp"
#include "tokend/rate_limiter.hpp"
#include "tokend/user_salt_cache.hpp"

namespace tka::tokend {

inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

struct ApiOptions {
    std::string provider;  // "provider" in token responses
    // A pooled Redis connection idle for longer than this is PINGed before use; if Redis
    // closed it meanwhile (restart, its `timeout` setting, a proxy's idle limit) it is
    // replaced at once instead of failing the request with a spurious 503.
    std::chrono::milliseconds idle_probe{5000};
    // Receives operator log lines (one JSON object each) that belong to no request, e.g.
    // the warning when the replica fence gave up on a broker. Unset: dropped.
    std::function<void(const std::string&)> log_line;
};

struct ApiRequest {
    std::string method;
    std::string path;  // without query string
    std::string content_type;
    std::string body;
    bool body_too_large = false;  // the transport stopped reading at kMaxBodyBytes
    std::string remote;           // client address (rate-limit key)
};

struct ApiResponse {
    int status = 200;
    std::string body;  // JSON, or Prometheus text for /metrics
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;  // Allow, Retry-After, ...
    // For the access log only (never sent):
    std::string error;     // error code when status >= 400
    std::string org_id;    // organization named by the request, when well-formed
    std::string token_id;  // token issued, refreshed or named
    std::string detail;    // cause of a 5xx for operators
};

class Api {
  public:
    Api(ApiOptions options, RedisPool& redis, Metrics& metrics, RateLimiter& limiter);

    ApiResponse handle(const ApiRequest& request);

  private:
    ApiResponse create(const ApiRequest& request);
    ApiResponse refresh(const ApiRequest& request);
    ApiResponse revoke(const ApiRequest& request);
    ApiResponse healthz();
    ApiResponse metrics();
    RedisPool::Lease lease();
    // Given to the stores: fence metrics, and a warning line when a fence timed out.
    FenceObserver fence_observer();

    ApiOptions options_;
    RedisPool& redis_;
    Metrics& metrics_;
    RateLimiter& limiter_;
    UserSaltCache salts_;
    std::mutex idle_mutex_;
    std::unordered_map<const RedisConnection*, std::chrono::steady_clock::time_point> last_used_;
};

}  // namespace tka::tokend
