// Routing and the endpoint handlers of tokend (see api.hpp and docs/http-api.md).
#include "tokend/api.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string_view>

#include "common/errors.hpp"
#include "common/replica_wait.hpp"
#include "common/time_format.hpp"
#include "tokend/request_log.hpp"
#include "tokend/request_parsing.hpp"
#include "tokend/responses.hpp"
#include "tokend/routes.hpp"

namespace tka::tokend {

ApiResponse error_response(const ApiError& error) {
    ApiResponse r;
    r.status = error.status;
    r.body = error_body(error);
    r.error = error.code;
    return r;
}

namespace {

ApiResponse ok_json(std::string body) {
    ApiResponse r;
    r.body = std::move(body);
    return r;
}

ApiResponse unavailable(const RedisError& e, Metrics& metrics) {
    metrics.redis_error();
    auto r = error_response(error_for_status(503));
    r.detail = e.what();
    return r;
}

// A write that too few replicas confirmed (--redis-wait-replicas): 503 saying so.
ApiResponse not_replicated(const ReplicaWaitError& e, Metrics& metrics) {
    metrics.redis_error();
    ApiError error = error_for_status(503);
    error.description = e.what();  // counts and milliseconds only, never a secret
    auto r = error_response(error);
    r.detail = e.what();
    return r;
}

}  // namespace

Api::Api(ApiOptions options, Metrics& metrics, RateLimiter& limiter, AuthThrottle& throttle)
    : options_(std::move(options)), metrics_(metrics), limiter_(limiter), throttle_(throttle) {}

std::optional<ApiResponse> Api::precheck(ApiRequest& request) {
    const RouteSpec* spec = find_route(request.path);
    if (!spec) {
        return error_response(error_for_status(404));
    }
    if (!accepts(*spec, request.method)) {
        auto r = error_response(error_for_status(405));
        r.headers.emplace_back("Allow", std::string(spec->allow));
        return r;
    }
    if (spec->lane != Lane::redis) {
        return std::nullopt;
    }
    if (!throttle_.exempt(request.remote)) {
        if (auto d = limiter_.check(request.remote, RateLimiter::Clock::now()); !d.allowed) {
            auto r = error_response(error_for_status(429));
            r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
            return r;
        }
    }
    if (!is_json_content_type(request.content_type)) {
        return error_response(error_for_status(415));
    }
    if (request.body_too_large) {
        return error_response(error_for_status(413));
    }
    auto parsed = parse(request);
    if (auto* refused = std::get_if<ApiResponse>(&parsed)) {
        // A malformed credential is a wrong one (401): it counts for the throttle too.
        record_outcome(request.remote, refused->org_id, *refused);
        return std::move(*refused);
    }
    request.parsed = std::move(std::get<ParsedBody>(parsed));
    std::string org;
    if (auto* c = std::get_if<CreateRequest>(&request.parsed)) {
        org = c->organization_id;
    } else if (auto* v = std::get_if<RevokeRequest>(&request.parsed)) {
        org = v->organization_id;
    }
    if (throttle_.enabled()) {
        const auto d = throttle_.check(request.remote, org, AuthThrottle::Clock::now());
        if (!d.allowed) {
            auto r = error_response(error_for_status(429));
            r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
            r.org_id = org;
            r.detail = "throttled after repeated authentication failures";
            return r;
        }
    }
    return std::nullopt;
}

namespace {

// A parse result as stage one keeps it: the request, or its error answer.
template <typename T>
std::variant<ParsedBody, ApiResponse> checked(Parsed<T> parsed) {
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return error_response(*e);
    }
    return ParsedBody(std::move(std::get<T>(parsed)));
}

}  // namespace

std::variant<ParsedBody, ApiResponse> Api::parse(const ApiRequest& request) const {
    switch (find_route(request.path)->route) {
        case Route::create:
            return checked(parse_create(request.body));
        case Route::refresh:
            return checked(parse_refresh(request.body));
        case Route::revoke:
            return checked(parse_revoke(request.body));
        case Route::healthz:
        case Route::metrics:
            break;
    }
    return error_response(error_for_status(404));
}

ApiResponse Api::execute(const ApiRequest& request, TokenService& service) {
    ApiResponse answer;
    std::string org;
    try {
        if (auto* c = std::get_if<CreateRequest>(&request.parsed)) {
            org = c->organization_id;
            answer = create(*c, service);
        } else if (auto* f = std::get_if<RefreshRequest>(&request.parsed)) {
            answer = refresh(*f, service);
        } else if (auto* v = std::get_if<RevokeRequest>(&request.parsed)) {
            org = v->organization_id;
            answer = revoke(*v, service);
        } else {
            return error_response(error_for_status(404));  // not a token request
        }
    } catch (const ReplicaWaitError& e) {
        return not_replicated(e, metrics_);
    } catch (const RedisError& e) {
        return unavailable(e, metrics_);
    }
    record_outcome(request.remote, org, answer);
    return answer;
}

ApiResponse Api::execute(const ApiRequest& request, RedisConnection& redis) {
    RedisTokenService service(redis, salts_, fence_observer());
    return execute(request, service);
}

ApiResponse Api::handle(ApiRequest request, RedisConnection& redis) {
    if (auto answer = precheck(request)) {
        return *answer;
    }
    switch (find_route(request.path)->lane) {
        case Lane::redis:
            return execute(request, redis);
        case Lane::health:
            return healthz(redis);
        case Lane::local:
            break;
    }
    return metrics();
}

void Api::record_outcome(const std::string& client, const std::string& org_id,
                         const ApiResponse& answer) {
    if (!throttle_.enabled()) {
        return;
    }
    const auto now = AuthThrottle::Clock::now();
    if (answer.status == 401) {
        const auto outcome = throttle_.failure(client, org_id, now);
        // One warning when a block starts, never one per refused request.
        for (const auto& [level, o] : {std::pair{"address", outcome.address},
                                       std::pair{"organization", outcome.organization}}) {
            if (o.blocked && options_.log_line) {
                nlohmann::ordered_json line;
                line["ts"] = format_log_time(std::chrono::system_clock::now());
                line["level"] = "warning";
                line["event"] = "auth_throttle_block";
                line["scope"] = level;
                line["remote"] = client;
                if (!org_id.empty()) {
                    line["org"] = org_id;
                }
                line["penalty_s"] = o.penalty_seconds;
                line["message"] =
                    "repeated authentication failures: requests answered 429 for the penalty";
                options_.log_line(line.dump());
            }
        }
    } else if (answer.status == 200 || answer.status == 403 || answer.status == 404 ||
               answer.status == 410) {
        throttle_.success(client, now);
    }
}

ApiResponse Api::create(const CreateRequest& req, TokenService& service) {
    try {
        IssuedToken token = service.create(req, unix_now());
        metrics_.tokens_issued();
        auto r = ok_json(token_body(token, options_.provider));
        r.org_id = req.organization_id;
        r.token_id = token.token_id;
        return r;
    } catch (const Denied& d) {
        auto r = error_response(error_for(d.reason(), Endpoint::create));
        r.org_id = req.organization_id;
        return r;
    }
}

ApiResponse Api::refresh(const RefreshRequest& req, TokenService& service) {
    try {
        IssuedToken token = service.refresh(req, unix_now());
        metrics_.tokens_refreshed();
        auto r = ok_json(token_body(token, options_.provider));
        r.org_id = token.org_id;
        r.token_id = token.token_id;
        return r;
    } catch (const Denied& d) {
        auto r = error_response(error_for(d.reason(), Endpoint::refresh));
        r.token_id = req.token_id;
        return r;
    }
}

ApiResponse Api::revoke(const RevokeRequest& req, TokenService& service) {
    try {
        std::vector<std::string> revoked = service.revoke(req, unix_now());
        metrics_.tokens_revoked(revoked.size());
        auto r = ok_json(revoke_body(revoked));
        r.org_id = req.organization_id;
        r.token_id = req.token_id.value_or("");
        return r;
    } catch (const Denied& d) {
        auto r = error_response(error_for(d.reason(), Endpoint::revoke));
        r.org_id = req.organization_id;
        r.token_id = req.token_id.value_or("");
        return r;
    }
}

FenceObserver Api::fence_observer() {
    return [this](const FenceResult& fence) {
        const double seconds = std::chrono::duration<double>(fence.waited).count();
        metrics_.replica_fence(seconds, fence.timed_out);
        if (fence.timed_out && options_.log_line) {
            nlohmann::ordered_json line;
            line["ts"] = format_log_time(std::chrono::system_clock::now());
            line["level"] = "warning";
            line["event"] = "replica_fence_timeout";
            line["waited_ms"] = std::chrono::duration<double, std::milli>(fence.waited).count();
            line["stale_brokers"] = fence.dropped;
            line["lagging_brokers"] = fence.lagging;
            if (!fence.error.empty()) {
                line["redis_error"] = fence.error;  // RedisError texts never carry secrets
            }
            line["message"] =
                "a broker's token replica did not confirm the change (unreachable or stopped "
                "without cleanup); it no longer answers from memory, the change is committed";
            options_.log_line(line.dump());
        }
    };
}

ApiResponse Api::healthz(RedisConnection& redis) {
    try {
        RedisValue pong = redis.command({"PING"});
        if (pong.type == RedisValue::Type::status && pong.str == "PONG") {
            return ok_json(R"({"status":"ok"})");
        }
        auto r = error_response(error_for_status(503));
        r.detail = "unexpected PING reply";
        return r;
    } catch (const RedisError& e) {
        return unavailable(e, metrics_);
    }
}

std::string Api::throttle_metrics() const {
    const auto now = AuthThrottle::Clock::now();
    std::string out;
    auto family = [&](const char* name, const char* type, const char* help, auto value) {
        out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
        for (const auto& [level, t] : {std::pair{"address", &throttle_.addresses()},
                                       std::pair{"organization", &throttle_.organizations()}}) {
            out += fmt::format("{}{{level=\"{}\"}} {}\n", name, level, value(*t));
        }
    };
    family("tokend_auth_throttle_keys", "gauge",
           "Addresses and organizations with a failure score.",
           [](const FailureThrottle& t) { return t.tracked_keys(); });
    family("tokend_auth_throttle_blocked", "gauge",
           "Addresses and organizations answered 429 now for repeated failures.",
           [now](const FailureThrottle& t) { return t.blocked_keys(now); });
    family("tokend_auth_throttle_blocks_total", "counter",
           "Blocks started for repeated authentication failures.",
           [](const FailureThrottle& t) { return t.blocks_total(); });
    family("tokend_auth_throttle_evictions_total", "counter",
           "Failure scores dropped to keep the table within its bound.",
           [](const FailureThrottle& t) { return t.evictions_total(); });
    return out;
}

ApiResponse Api::metrics() {
    ApiResponse r;
    r.body = metrics_.exposition() + throttle_metrics();
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
}

}  // namespace tka::tokend
