// Routing and the endpoint handlers of tokend (see api.hpp and docs/http-api.md).
#include "tokend/api.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string_view>

#include "common/errors.hpp"
#include "common/time_format.hpp"
#include "tokend/request_log.hpp"
#include "tokend/request_parsing.hpp"
#include "tokend/responses.hpp"
#include "tokend/routes.hpp"

namespace tka::tokend {

namespace {

ApiResponse error_response(const ApiError& error) {
    ApiResponse r;
    r.status = error.status;
    r.body = error_body(error);
    r.error = error.code;
    return r;
}

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

}  // namespace

Api::Api(ApiOptions options, Metrics& metrics, RateLimiter& limiter)
    : options_(std::move(options)), metrics_(metrics), limiter_(limiter) {}

std::optional<ApiResponse> Api::precheck(const ApiRequest& request) {
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
    if (auto d = limiter_.check(request.remote, RateLimiter::Clock::now()); !d.allowed) {
        auto r = error_response(error_for_status(429));
        r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
        return r;
    }
    if (!is_json_content_type(request.content_type)) {
        return error_response(error_for_status(415));
    }
    if (request.body_too_large) {
        return error_response(error_for_status(413));
    }
    return std::nullopt;
}

ApiResponse Api::execute(const ApiRequest& request, TokenService& service) {
    try {
        switch (find_route(request.path)->route) {
            case Route::create:
                return create(request, service);
            case Route::refresh:
                return refresh(request, service);
            case Route::revoke:
                return revoke(request, service);
            case Route::healthz:
            case Route::metrics:
                break;
        }
        return error_response(error_for_status(404));
    } catch (const RedisError& e) {
        return unavailable(e, metrics_);
    }
}

ApiResponse Api::execute(const ApiRequest& request, RedisConnection& redis) {
    RedisTokenService service(redis, salts_, fence_observer());
    return execute(request, service);
}

ApiResponse Api::handle(const ApiRequest& request, RedisConnection& redis) {
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

ApiResponse Api::create(const ApiRequest& request, TokenService& service) {
    auto parsed = parse_create(request.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return error_response(*e);
    }
    auto& req = std::get<CreateRequest>(parsed);
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

ApiResponse Api::refresh(const ApiRequest& request, TokenService& service) {
    auto parsed = parse_refresh(request.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return error_response(*e);
    }
    auto& req = std::get<RefreshRequest>(parsed);
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

ApiResponse Api::revoke(const ApiRequest& request, TokenService& service) {
    auto parsed = parse_revoke(request.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return error_response(*e);
    }
    auto& req = std::get<RevokeRequest>(parsed);
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

ApiResponse Api::metrics() {
    ApiResponse r;
    r.body = metrics_.exposition();
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
}

}  // namespace tka::tokend
