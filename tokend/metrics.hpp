// tokend's Prometheus metrics: thread-safe counters and one latency histogram per route,
// rendered in the text exposition format (version 0.0.4) for GET /metrics.
//
//   tokend_requests_total{route,status}            counter
//   tokend_request_errors_total{route,error}       counter (error: the answer's error code)
//   tokend_request_duration_seconds{route}         histogram (le buckets, _sum, _count)
//   tokend_redis_errors_total                      counter
//   tokend_tokens_issued_total                     counter
//   tokend_tokens_refreshed_total                  counter
//   tokend_tokens_revoked_total                    counter
//   tokend_replica_fence_wait_seconds              histogram (le buckets, _sum, _count)
//   tokend_replica_fence_timeouts_total            counter
//   tokend_connections_open                        gauge
//   tokend_connections_total                       counter (accepted and served)
//   tokend_connections_refused_total{reason}       counter (max_connections, per_address)
//   tokend_redis_queue_full_total                  counter (503: every Redis worker busy)
//
// The replica fence (common/replica_fence.hpp) runs after a refresh, a revoke and a create
// that replaced tokens: how long it waited for the brokers' token replicas, and how often
// a broker did not confirm (went stale while behind, or the bound passed).
//
// Route labels come from the route table (routes.hpp, route_label) so label cardinality stays
// bounded whatever paths clients send; error labels are the fixed set of error codes tokend
// answers with (docs/http-api.md), anything else counted as "other".
//
// snapshot() copies the counters the dashboard's usage history (usage_history.hpp) samples.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tka::tokend {

// The counters the dashboard's usage charts are drawn from, as totals since start.
struct MetricsSnapshot {
    std::uint64_t issued = 0;
    std::uint64_t refreshed = 0;
    std::uint64_t revoked = 0;
    // error code ("invalid_client", "rate_limited", ...) -> requests answered with it, over
    // every route; only codes seen so far.
    std::map<std::string, std::uint64_t> errors;
};

class Metrics {
  public:
    static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                        0.1,   0.25,   0.5,   1,    2.5,   5};
    // A fence usually takes a round trip or a few ms; a stale broker makes it about 1.5 s.
    static constexpr std::array<double, 12> kFenceBuckets = {
        0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2};

    // `error`: the answer's error code for a status >= 400 ("" for none); counted in
    // tokend_request_errors_total.
    void observe_request(std::string_view route, int status, double seconds,
                         std::string_view error = {});
    void redis_error();
    void tokens_issued(std::uint64_t n = 1);
    void tokens_refreshed(std::uint64_t n = 1);
    void tokens_revoked(std::uint64_t n);
    void replica_fence(double seconds, bool timed_out);
    void connection_opened();
    void connection_closed();
    // reason: "max_connections" or "per_address"
    void connection_refused(std::string_view reason);
    void redis_queue_full();

    std::string exposition() const;
    MetricsSnapshot snapshot() const;

  private:
    struct Histogram {
        std::array<std::uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
        std::uint64_t count = 0;
        double sum = 0;  // seconds
    };
    static_assert(kFenceBuckets.size() == kBuckets.size());  // one Histogram type for both

    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, std::uint64_t> requests_;        // (route, status)
    std::map<std::string, Histogram> durations_;                           // route
    std::map<std::pair<std::string, std::string>, std::uint64_t> errors_;  // (route, error)
    std::uint64_t redis_errors_ = 0;
    std::uint64_t issued_ = 0;
    std::uint64_t refreshed_ = 0;
    std::uint64_t revoked_ = 0;
    Histogram fence_wait_;
    std::uint64_t fence_timeouts_ = 0;
    std::uint64_t connections_open_ = 0;
    std::uint64_t connections_total_ = 0;
    std::map<std::string, std::uint64_t, std::less<>> connections_refused_;
    std::uint64_t queue_full_ = 0;
};

}  // namespace tka::tokend
