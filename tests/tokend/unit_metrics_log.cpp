// Prometheus exposition text of tokend's metrics, and the access-log line format.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "tokend/metrics.hpp"
#include "tokend/request_log.hpp"
#include "tokend/responses.hpp"
#include "tokend/routes.hpp"

using namespace tka::tokend;

namespace {

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("route labels come from a fixed set", "[tokend][unit]") {
    CHECK(route_label("/v2/tokens/create") == "/v2/tokens/create");
    CHECK(route_label("/healthz") == "/healthz");
    CHECK(route_label("/v2/tokens/create/") == "other");
    CHECK(route_label("/anything?x=\"") == "other");
}

TEST_CASE("metrics exposition text", "[tokend][unit]") {
    Metrics m;
    m.observe_request("/v2/tokens/create", 200, 0.003);
    m.observe_request("/v2/tokens/create", 200, 0.2);
    m.observe_request("/v2/tokens/create", 401, 7.0);
    m.redis_error();
    m.tokens_issued(2);
    m.tokens_refreshed();
    m.tokens_revoked(3);
    m.replica_fence(0.0003, false);
    m.replica_fence(0.004, false);
    m.replica_fence(1.5, true);
    const std::string text = m.exposition();
    INFO(text);
    CHECK(contains(text, "# TYPE tokend_requests_total counter\n"));
    CHECK(contains(text, "tokend_requests_total{route=\"/v2/tokens/create\",status=\"200\"} 2\n"));
    CHECK(contains(text, "tokend_requests_total{route=\"/v2/tokens/create\",status=\"401\"} 1\n"));
    CHECK(contains(text, "# TYPE tokend_request_duration_seconds histogram\n"));
    // Cumulative buckets: 0.003 falls in le=0.005, 0.2 in le=0.25, 7 s only in +Inf.
    CHECK(contains(text,
                   "tokend_request_duration_seconds_bucket{route=\"/v2/tokens/create\","
                   "le=\"0.0025\"} 0\n"));
    CHECK(contains(text,
                   "tokend_request_duration_seconds_bucket{route=\"/v2/tokens/create\","
                   "le=\"0.005\"} 1\n"));
    CHECK(contains(text,
                   "tokend_request_duration_seconds_bucket{route=\"/v2/tokens/create\","
                   "le=\"0.25\"} 2\n"));
    CHECK(contains(text,
                   "tokend_request_duration_seconds_bucket{route=\"/v2/tokens/create\","
                   "le=\"5\"} 2\n"));
    CHECK(contains(text,
                   "tokend_request_duration_seconds_bucket{route=\"/v2/tokens/create\","
                   "le=\"+Inf\"} 3\n"));
    CHECK(contains(text, "tokend_request_duration_seconds_count{route=\"/v2/tokens/create\"} 3\n"));
    CHECK(contains(text, "tokend_request_duration_seconds_sum{route=\"/v2/tokens/create\"} 7.203"));
    CHECK(contains(text, "tokend_redis_errors_total 1\n"));
    CHECK(contains(text, "tokend_tokens_issued_total 2\n"));
    CHECK(contains(text, "tokend_tokens_refreshed_total 1\n"));
    CHECK(contains(text, "tokend_tokens_revoked_total 3\n"));
    // The replica fence: its own finer buckets, and the timeouts.
    CHECK(contains(text, "# TYPE tokend_replica_fence_wait_seconds histogram\n"));
    CHECK(contains(text, "tokend_replica_fence_wait_seconds_bucket{le=\"0.0005\"} 1\n"));
    CHECK(contains(text, "tokend_replica_fence_wait_seconds_bucket{le=\"0.005\"} 2\n"));
    CHECK(contains(text, "tokend_replica_fence_wait_seconds_bucket{le=\"1\"} 2\n"));
    CHECK(contains(text, "tokend_replica_fence_wait_seconds_bucket{le=\"2\"} 3\n"));
    CHECK(contains(text, "tokend_replica_fence_wait_seconds_bucket{le=\"+Inf\"} 3\n"));
    CHECK(contains(text, "tokend_replica_fence_wait_seconds_count 3\n"));
    CHECK(contains(text, "tokend_replica_fence_wait_seconds_sum 1.5043"));
    CHECK(contains(text, "# TYPE tokend_replica_fence_timeouts_total counter\n"));
    CHECK(contains(text, "tokend_replica_fence_timeouts_total 1\n"));
    // Every line is a comment or "name{labels} value".
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        REQUIRE(end != std::string::npos);
        std::string line = text.substr(start, end - start);
        CHECK((line.rfind("# ", 0) == 0 || line.rfind("tokend_", 0) == 0));
        start = end + 1;
    }
}

TEST_CASE("access log line", "[tokend][unit]") {
    LogEntry e;
    e.method = "POST";
    e.path = "/v2/tokens/create";
    e.status = 401;
    e.duration_ms = 1.23456;
    e.remote = "127.0.0.1";
    e.org_id = "org_k7xm4pqr2n5t";
    e.error = "invalid_client";
    auto ts = std::chrono::system_clock::time_point{} + std::chrono::milliseconds(1774620000042);
    const std::string line = format_log_line(e, ts);
    CHECK(line.find('\n') == std::string::npos);
    auto j = nlohmann::json::parse(line);
    CHECK(j["ts"] == "2026-03-27T14:00:00.042Z");
    CHECK(j["method"] == "POST");
    CHECK(j["path"] == "/v2/tokens/create");
    CHECK(j["status"] == 401);
    CHECK(j["duration_ms"].get<double>() == Approx(1.235));
    CHECK(j["remote"] == "127.0.0.1");
    CHECK(j["org"] == "org_k7xm4pqr2n5t");
    CHECK(j["error"] == "invalid_client");
    CHECK_FALSE(j.contains("token_id"));
    CHECK_FALSE(j.contains("detail"));
}

TEST_CASE("access log line survives hostile paths", "[tokend][unit]") {
    LogEntry e;
    e.method = "GET";
    e.path = std::string("/\"\n\xff") + std::string(1000, 'a');
    e.status = 404;
    const std::string line = format_log_line(e, std::chrono::system_clock::now());
    CHECK(line.find('\n') == std::string::npos);
    auto j = nlohmann::json::parse(line);
    CHECK(j["path"].get<std::string>().size() <= 256 + 3);
}

TEST_CASE("error bodies and status mapping", "[tokend][unit]") {
    using tka::Refusal;
    CHECK(error_for(Refusal::unknown_org, Endpoint::create).status == 401);
    CHECK(error_for(Refusal::bad_secret_key, Endpoint::create).code == "invalid_client");
    // Same text for unknown org and wrong key: no probing which organizations exist.
    CHECK(error_for(Refusal::unknown_org, Endpoint::create).description ==
          error_for(Refusal::bad_secret_key, Endpoint::create).description);
    CHECK(error_for(Refusal::token_auth_off, Endpoint::create).status == 403);
    CHECK(error_for(Refusal::wrong_password, Endpoint::refresh).code == "invalid_grant");
    CHECK(error_for(Refusal::unknown_token, Endpoint::refresh).status == 401);
    CHECK(error_for(Refusal::unknown_token, Endpoint::revoke).status == 404);
    CHECK(error_for(Refusal::expired, Endpoint::refresh).code == "token_expired");
    CHECK(error_for(Refusal::revoked, Endpoint::refresh).status == 410);
    CHECK(error_for(Refusal::replaced, Endpoint::refresh).code == "token_replaced");
    auto body = nlohmann::json::parse(error_body({400, "invalid_request", "bad"}));
    CHECK(body == nlohmann::json{{"error", "invalid_request"}, {"error_description", "bad"}});
}
