// tokend's request handling, independent of the HTTP transport: a request (method, path,
// content type, body, remote address) goes in, a status + JSON body comes out, together
// with what the access log and metrics need to know. Routing (routes.hpp), method checks
// (405 with Allow), rate limiting (429), size (413) and media-type (415) checks, JSON
// validation (request_parsing.hpp), and the calls into the token service
// (token_service.hpp) with the mapping of tka::Denied and tka::RedisError to statuses
// (docs/http-api.md). In two stages, so that nothing that can be answered from memory
// ever waits for a Redis worker.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/redis.hpp"
#include "common/replica_fence.hpp"
#include "tokend/auth_throttle.hpp"
#include "tokend/metrics.hpp"
#include "tokend/rate_limiter.hpp"
#include "tokend/request_parsing.hpp"
#include "tokend/responses.hpp"
#include "tokend/token_service.hpp"
#include "tokend/user_salt_cache.hpp"

namespace tka::tokend {

struct ApiOptions {
    std::string provider;  // "provider" in token responses
    // Receives operator log lines (one JSON object each) that belong to no request, e.g.
    // the warning when the replica fence gave up on a broker. Unset: dropped.
    std::function<void(const std::string&)> log_line;
};

// A token request's body once stage one has validated it.
using ParsedBody = std::variant<std::monostate, CreateRequest, RefreshRequest, RevokeRequest>;

struct ApiRequest {
    std::string method;
    std::string path;  // without query string
    std::string content_type;
    std::string body;
    bool body_too_large = false;  // the transport refused the body (--max-body-bytes)
    std::string remote;           // client address (client_address.hpp): limiter, throttle, log
    ParsedBody parsed;            // filled by Api::precheck for the token endpoints
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

// The JSON error answer for `error` (its status, code and description).
ApiResponse error_response(const ApiError& error);

class Api {
  public:
    Api(ApiOptions options, Metrics& metrics, RateLimiter& limiter, AuthThrottle& throttle);

    // Stage one, on the event loop and without Redis: routing (404), method (405 with
    // Allow), rate limit (429), media type (415), size (413), the JSON body (400) and the
    // failure throttle (429). A final answer, or nullopt when the request goes on to its
    // route's lane (routes.hpp).
    // Fills request.parsed when it lets a token request through.
    std::optional<ApiResponse> precheck(ApiRequest& request);

    // Lane::redis: a token endpoint whose request passed precheck, against `service`
    // (throws nothing: a Denied or a RedisError becomes its HTTP answer).
    ApiResponse execute(const ApiRequest& request, TokenService& service);
    // The same against Redis over `redis` (a worker's connection).
    ApiResponse execute(const ApiRequest& request, RedisConnection& redis);
    // Lane::health: 200 when Redis answers PING over `redis`, 503 otherwise.
    ApiResponse healthz(RedisConnection& redis);
    // Lane::local: the Prometheus text.
    ApiResponse metrics();

    // Both stages in one call, every lane over `redis`: for in-process callers and tests.
    ApiResponse handle(ApiRequest request, RedisConnection& redis);

    // Given to the stores: fence metrics, and a warning line when a fence timed out.
    FenceObserver fence_observer();

  private:
    ApiResponse create(const CreateRequest& request, TokenService& service);
    ApiResponse refresh(const RefreshRequest& request, TokenService& service);
    ApiResponse revoke(const RevokeRequest& request, TokenService& service);
    // The body of a token request, validated (400, or 401 for a malformed credential).
    std::variant<ParsedBody, ApiResponse> parse(const ApiRequest& request) const;
    // Tells the throttle how the credential check of a request ended (by its answer).
    void record_outcome(const std::string& client, const std::string& org_id,
                        const ApiResponse& answer);
    std::string throttle_metrics() const;

    ApiOptions options_;
    Metrics& metrics_;
    RateLimiter& limiter_;
    AuthThrottle& throttle_;
    UserSaltCache salts_;
};

}  // namespace tka::tokend
