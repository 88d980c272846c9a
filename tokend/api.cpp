// Routing and the endpoint handlers of tokend (see api.hpp and docs/http-api.md).
#include "tokend/api.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string_view>

#include "common/errors.hpp"
#include "common/org_store.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "tokend/request_log.hpp"
#include "tokend/request_parsing.hpp"
#include "tokend/responses.hpp"

namespace tka::tokend {

namespace {

constexpr std::string_view kCreate = "/v2/tokens/create";
constexpr std::string_view kRefresh = "/v2/tokens/refresh";
constexpr std::string_view kRevoke = "/v2/tokens/revoke";
constexpr std::string_view kHealthz = "/healthz";
constexpr std::string_view kMetrics = "/metrics";

bool is_post_route(std::string_view path) {
    return path == kCreate || path == kRefresh || path == kRevoke;
}

bool is_get_route(std::string_view path) {
    return path == kHealthz || path == kMetrics;
}

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

}  // namespace

Api::Api(ApiOptions options, RedisPool& redis, Metrics& metrics, RateLimiter& limiter)
    : options_(std::move(options)), redis_(redis), metrics_(metrics), limiter_(limiter) {}

ApiResponse Api::handle(const ApiRequest& request) {
    const std::string& path = request.path;
    const std::string& method = request.method;
    if (is_get_route(path)) {
        if (method != "GET" && method != "HEAD") {
            auto r = error_response(error_for_status(405));
            r.headers.emplace_back("Allow", "GET, HEAD");
            return r;
        }
        return path == kHealthz ? healthz() : metrics();
    }
    if (!is_post_route(path)) {
        return error_response(error_for_status(404));
    }
    if (method != "POST") {
        auto r = error_response(error_for_status(405));
        r.headers.emplace_back("Allow", "POST");
        return r;
    }
    if (auto d = limiter_.check(request.remote, RateLimiter::Clock::now()); !d.allowed) {
        auto r = error_response(error_for_status(429));
        r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
        return r;
    }
    if (!is_json_content_type(request.content_type)) {
        return error_response(error_for_status(415));
    }
    if (request.body_too_large || request.body.size() > kMaxBodyBytes) {
        return error_response(error_for_status(413));
    }

    ApiResponse response;
    try {
        if (path == kCreate) {
            response = create(request);
        } else if (path == kRefresh) {
            response = refresh(request);
        } else {
            response = revoke(request);
        }
    } catch (const RedisError& e) {
        metrics_.redis_error();
        response = error_response(error_for_status(503));
        response.detail = e.what();
    }
    return response;
}

ApiResponse Api::create(const ApiRequest& request) {
    auto parsed = parse_create(request.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return error_response(*e);
    }
    auto& req = std::get<CreateRequest>(parsed);
    try {
        auto lease = this->lease();
        // One round trip: the script checks the secret key and token auth itself; only the
        // org's user_salt comes from a cache (user_salt_cache.hpp). A stale salt is refused
        // by the script: read it again and retry once.
        std::optional<IssuedToken> token;
        for (int attempt = 0; attempt < 2 && !token; ++attempt) {
            auto salt = salts_.get(*lease, req.organization_id);
            if (!salt) {
                throw Denied(Reason::unknown_org, "unknown organization or wrong secret key");
            }
            token = TokenStore(*lease, fence_observer())
                        .create_with_key(req.organization_id, *salt, req.secret_key, req.user_email,
                                         req.replace_existing, unix_now());
            if (!token) {
                salts_.forget(req.organization_id);
            }
        }
        if (!token) {
            throw RedisError("the organization's user_salt changed while minting");
        }
        metrics_.tokens_issued();
        auto r = ok_json(token_body(*token, options_.provider));
        r.org_id = req.organization_id;
        r.token_id = token->token_id;
        return r;
    } catch (const Denied& d) {
        auto r = error_response(error_for(d.reason(), Endpoint::create));
        r.org_id = req.organization_id;
        return r;
    }
}

ApiResponse Api::refresh(const ApiRequest& request) {
    auto parsed = parse_refresh(request.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return error_response(*e);
    }
    auto& req = std::get<RefreshRequest>(parsed);
    try {
        auto lease = this->lease();
        IssuedToken token = TokenStore(*lease, fence_observer())
                                .refresh(req.token_id, req.current_token_password, unix_now());
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

ApiResponse Api::revoke(const ApiRequest& request) {
    auto parsed = parse_revoke(request.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return error_response(*e);
    }
    auto& req = std::get<RevokeRequest>(parsed);
    try {
        auto lease = this->lease();
        Organization org = OrgStore(*lease).authenticate(req.organization_id, req.secret_key);
        TokenStore tokens(*lease, fence_observer());
        std::vector<std::string> revoked =
            req.token_id ? tokens.revoke(org.org_id, *req.token_id, unix_now())
                         : tokens.revoke_email(org, *req.user_email, unix_now());
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

RedisPool::Lease Api::lease() {
    RedisPool::Lease lease = redis_.acquire();
    const auto now = std::chrono::steady_clock::now();
    bool probe = false;
    {
        std::lock_guard lock(idle_mutex_);
        auto [it, fresh] = last_used_.try_emplace(&*lease, now);
        probe = !fresh && now - it->second > options_.idle_probe;
        it->second = now;
    }
    if (probe && lease->connected()) {
        try {
            lease->command({"PING"});
        } catch (const RedisError&) {
            // The socket went stale while idle. Drop it so the request's first command
            // reconnects right away; if Redis is really down, that attempt fails fast and
            // the usual backoff applies from then on.
            lease->disconnect();
        }
    }
    return lease;
}

ApiResponse Api::healthz() {
    try {
        auto lease = this->lease();
        RedisValue pong = lease->command({"PING"});
        if (pong.type == RedisValue::Type::status && pong.str == "PONG") {
            return ok_json(R"({"status":"ok"})");
        }
        auto r = error_response(error_for_status(503));
        r.detail = "unexpected PING reply";
        return r;
    } catch (const RedisError& e) {
        metrics_.redis_error();
        auto r = error_response(error_for_status(503));
        r.detail = e.what();
        return r;
    }
}

ApiResponse Api::metrics() {
    ApiResponse r;
    r.body = metrics_.exposition();
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
}

}  // namespace tka::tokend
