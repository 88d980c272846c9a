// Counters, histograms and their Prometheus text exposition (see metrics.hpp).
#include "tokend/metrics.hpp"

#include <fmt/format.h>

namespace tka::tokend {

namespace {

template <typename Histogram, typename Buckets>
void observe(Histogram& h, const Buckets& bounds, double seconds) {
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (seconds <= bounds[i]) {
            ++h.buckets[i];
            break;
        }
    }
    ++h.count;
    h.sum += seconds;
}

// Every error code tokend answers with (responses.cpp, docs/http-api.md): the label's
// whole range, so a code added without updating this list shows up as "other", never as an
// unbounded label.
constexpr std::array<std::string_view, 20> kErrorCodes = {"access_denied",
                                                          "conflict",
                                                          "csrf_failed",
                                                          "expectation_failed",
                                                          "header_too_large",
                                                          "invalid_client",
                                                          "invalid_grant",
                                                          "invalid_request",
                                                          "method_not_allowed",
                                                          "not_found",
                                                          "payload_too_large",
                                                          "rate_limited",
                                                          "request_timeout",
                                                          "server_error",
                                                          "temporarily_unavailable",
                                                          "token_expired",
                                                          "token_replaced",
                                                          "token_revoked",
                                                          "unauthorized",
                                                          "unsupported_media_type"};

std::string_view error_label(std::string_view error) {
    for (const std::string_view code : kErrorCodes) {
        if (code == error) {
            return code;
        }
    }
    return "other";
}

}  // namespace

void Metrics::observe_request(std::string_view route, int status, double seconds,
                              std::string_view error) {
    std::lock_guard lock(mutex_);
    ++requests_[{std::string(route), status}];
    observe(durations_[std::string(route)], kBuckets, seconds);
    if (status >= 400 || !error.empty()) {
        ++errors_[{std::string(route), std::string(error_label(error))}];
    }
}

MetricsSnapshot Metrics::snapshot() const {
    std::lock_guard lock(mutex_);
    MetricsSnapshot s;
    s.issued = issued_;
    s.refreshed = refreshed_;
    s.revoked = revoked_;
    for (const auto& [key, value] : errors_) {
        s.errors[key.second] += value;
    }
    return s;
}

void Metrics::replica_fence(double seconds, bool timed_out) {
    std::lock_guard lock(mutex_);
    observe(fence_wait_, kFenceBuckets, seconds);
    if (timed_out) {
        ++fence_timeouts_;
    }
}

void Metrics::redis_error() {
    std::lock_guard lock(mutex_);
    ++redis_errors_;
}

void Metrics::tokens_issued(std::uint64_t n) {
    std::lock_guard lock(mutex_);
    issued_ += n;
}

void Metrics::tokens_refreshed(std::uint64_t n) {
    std::lock_guard lock(mutex_);
    refreshed_ += n;
}

void Metrics::tokens_revoked(std::uint64_t n) {
    std::lock_guard lock(mutex_);
    revoked_ += n;
}

void Metrics::connection_opened() {
    std::lock_guard lock(mutex_);
    ++connections_open_;
    ++connections_total_;
}

void Metrics::connection_closed() {
    std::lock_guard lock(mutex_);
    --connections_open_;
}

void Metrics::connection_refused(std::string_view reason) {
    std::lock_guard lock(mutex_);
    auto it = connections_refused_.find(reason);
    if (it == connections_refused_.end()) {
        it = connections_refused_.emplace(std::string(reason), 0).first;
    }
    ++it->second;
}

void Metrics::redis_queue_full() {
    std::lock_guard lock(mutex_);
    ++queue_full_;
}

namespace {

void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
}

}  // namespace

std::string Metrics::exposition() const {
    std::lock_guard lock(mutex_);
    std::string out;
    out += "# HELP tokend_requests_total HTTP requests by route and status.\n";
    out += "# TYPE tokend_requests_total counter\n";
    for (const auto& [key, value] : requests_) {
        out += fmt::format("tokend_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first,
                           key.second, value);
    }
    out +=
        "# HELP tokend_request_errors_total Requests answered with an error, by route and code.\n";
    out += "# TYPE tokend_request_errors_total counter\n";
    for (const auto& [key, value] : errors_) {
        out += fmt::format("tokend_request_errors_total{{route=\"{}\",error=\"{}\"}} {}\n",
                           key.first, key.second, value);
    }
    out += "# HELP tokend_request_duration_seconds HTTP request latency by route.\n";
    out += "# TYPE tokend_request_duration_seconds histogram\n";
    for (const auto& [route, h] : durations_) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += h.buckets[i];
            out +=
                fmt::format("tokend_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                            route, kBuckets[i], cumulative);
        }
        out +=
            fmt::format("tokend_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                        route, h.count);
        out +=
            fmt::format("tokend_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
        out += fmt::format("tokend_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                           h.count);
    }
    counter(out, "tokend_redis_errors_total", "Requests that failed because Redis was unreachable.",
            redis_errors_);
    counter(out, "tokend_tokens_issued_total", "Tokens minted by /v2/tokens/create.", issued_);
    counter(out, "tokend_tokens_refreshed_total", "Tokens rotated by /v2/tokens/refresh.",
            refreshed_);
    counter(out, "tokend_tokens_revoked_total", "Tokens revoked by /v2/tokens/revoke.", revoked_);
    out +=
        "# HELP tokend_replica_fence_wait_seconds Time a refresh, revoke or replace waited for "
        "the brokers' token replicas.\n";
    out += "# TYPE tokend_replica_fence_wait_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kFenceBuckets.size(); ++i) {
        cumulative += fence_wait_.buckets[i];
        out += fmt::format("tokend_replica_fence_wait_seconds_bucket{{le=\"{}\"}} {}\n",
                           kFenceBuckets[i], cumulative);
    }
    out += fmt::format("tokend_replica_fence_wait_seconds_bucket{{le=\"+Inf\"}} {}\n",
                       fence_wait_.count);
    out += fmt::format("tokend_replica_fence_wait_seconds_sum {}\n", fence_wait_.sum);
    out += fmt::format("tokend_replica_fence_wait_seconds_count {}\n", fence_wait_.count);
    counter(out, "tokend_replica_fence_timeouts_total",
            "Replica fences that ended without every broker confirming (a broker went stale "
            "or the bound passed).",
            fence_timeouts_);
    out += fmt::format(
        "# HELP tokend_connections_open Open client connections.\n"
        "# TYPE tokend_connections_open gauge\ntokend_connections_open {}\n",
        connections_open_);
    counter(out, "tokend_connections_total", "Client connections accepted and served.",
            connections_total_);
    out += "# HELP tokend_connections_refused_total Connections refused at accept, by limit.\n";
    out += "# TYPE tokend_connections_refused_total counter\n";
    for (std::string_view reason : {"max_connections", "per_address"}) {
        auto it = connections_refused_.find(reason);
        out += fmt::format("tokend_connections_refused_total{{reason=\"{}\"}} {}\n", reason,
                           it == connections_refused_.end() ? 0 : it->second);
    }
    counter(out, "tokend_redis_queue_full_total",
            "Requests answered 503 because every Redis worker was busy and the queue full.",
            queue_full_);
    return out;
}

}  // namespace tka::tokend
