// The usage page's data: tokend_request_errors_total and Metrics::snapshot(), and the
// history that turns snapshots taken every interval into per-interval counts (synthetic
// snapshots and time points: no clock, no sleeping).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tokend/metrics.hpp"
#include "tokend/usage_history.hpp"

using namespace tka::tokend;
using namespace std::chrono_literals;

namespace {

const admin::UsageSeries* find_series(const admin::Usage& u, const std::string& id) {
    for (const auto& s : u.series) {
        if (s.id == id) {
            return &s;
        }
    }
    return nullptr;
}

MetricsSnapshot counters(std::uint64_t issued, std::uint64_t refreshed, std::uint64_t revoked,
                         std::map<std::string, std::uint64_t> errors = {}) {
    MetricsSnapshot s;
    s.issued = issued;
    s.refreshed = refreshed;
    s.revoked = revoked;
    s.errors = std::move(errors);
    return s;
}

const std::chrono::steady_clock::time_point t0{};

}  // namespace

TEST_CASE("metrics: request errors are counted by route and error code", "[tokend][unit][usage]") {
    Metrics m;
    m.observe_request("/v2/tokens/create", 200, 0.001);
    m.observe_request("/v2/tokens/create", 401, 0.001, "invalid_client");
    m.observe_request("/v2/tokens/create", 401, 0.001, "invalid_client");
    m.observe_request("/v2/tokens/refresh", 429, 0.001, "rate_limited");
    // A code outside the fixed set cannot grow the label set.
    m.observe_request("other", 400, 0.001, "made_up_\"code");
    m.tokens_issued(5);
    m.tokens_refreshed(2);
    m.tokens_revoked(1);
    const std::string text = m.exposition();
    INFO(text);
    CHECK(text.find("# TYPE tokend_request_errors_total counter\n") != std::string::npos);
    CHECK(text.find("tokend_request_errors_total{route=\"/v2/tokens/create\","
                    "error=\"invalid_client\"} 2\n") != std::string::npos);
    CHECK(text.find("tokend_request_errors_total{route=\"/v2/tokens/refresh\","
                    "error=\"rate_limited\"} 1\n") != std::string::npos);
    CHECK(text.find("tokend_request_errors_total{route=\"other\",error=\"other\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("made_up") == std::string::npos);

    const MetricsSnapshot s = m.snapshot();
    CHECK(s.issued == 5);
    CHECK(s.refreshed == 2);
    CHECK(s.revoked == 1);
    CHECK(s.errors.at("invalid_client") == 2);
    CHECK(s.errors.at("rate_limited") == 1);
    CHECK(s.errors.at("other") == 1);
    CHECK(s.errors.size() == 3);
}

TEST_CASE("usage history: before any sample, series has series but no bars",
          "[tokend][unit][usage]") {
    UsageHistory h;
    const admin::Usage u = h.usage();
    CHECK(u.interval_seconds == 10);
    REQUIRE(u.series.size() == 3);
    CHECK(u.series[0].id == "tokens-created");
    CHECK(u.series[0].name == "Tokens created");
    CHECK(u.series[1].id == "refreshes");
    CHECK(u.series[2].id == "revokes");
    for (const auto& s : u.series) {
        CHECK(s.per_interval.empty());
        CHECK(s.total == 0);
    }
}

TEST_CASE("usage history: per interval is the difference of consecutive samples",
          "[tokend][unit][usage]") {
    UsageHistory h;
    h.sample(counters(0, 0, 0), t0);  // at start
    h.sample(counters(4, 1, 0), t0 + 10s);
    h.sample(counters(4, 3, 2, {{"invalid_client", 7}}), t0 + 20s);
    h.sample(counters(10, 3, 2, {{"invalid_client", 7}, {"rate_limited", 1}}), t0 + 30s);
    const admin::Usage u = h.usage();
    const auto* created = find_series(u, "tokens-created");
    REQUIRE(created);
    CHECK(created->per_interval == std::vector<std::uint64_t>{4, 0, 6});
    CHECK(created->total == 10);
    CHECK(find_series(u, "refreshes")->per_interval == std::vector<std::uint64_t>{1, 2, 0});
    CHECK(find_series(u, "revokes")->per_interval == std::vector<std::uint64_t>{0, 2, 0});
    const auto* bad_key = find_series(u, "failures-invalid_client");
    REQUIRE(bad_key);
    CHECK(bad_key->name == "Failures: invalid_client");
    // An error code that appears later counts from 0 in the samples before it.
    CHECK(bad_key->per_interval == std::vector<std::uint64_t>{0, 7, 0});
    CHECK(bad_key->total == 7);
    const auto* limited = find_series(u, "failures-rate_limited");
    REQUIRE(limited);
    CHECK(limited->per_interval == std::vector<std::uint64_t>{0, 0, 1});
    // Failures come after the three counters, by code.
    REQUIRE(u.series.size() == 5);
    CHECK(u.series[3].id == "failures-invalid_client");
    CHECK(u.series[4].id == "failures-rate_limited");
}

TEST_CASE("usage history: keeps the last hour: 360 intervals of 10 s", "[tokend][unit][usage]") {
    UsageHistory h;
    for (std::uint64_t i = 0; i <= 400; ++i) {
        h.sample(counters(i * i, 0, 0), t0 + std::chrono::seconds(10 * i));
    }
    const admin::Usage u = h.usage();
    const auto* created = find_series(u, "tokens-created");
    REQUIRE(created);
    REQUIRE(created->per_interval.size() == 360);
    // The newest interval (399 -> 400) is last; the oldest kept is (40 -> 41).
    CHECK(created->per_interval.back() == 400 * 400 - 399 * 399);
    CHECK(created->per_interval.front() == 41 * 41 - 40 * 40);
    CHECK(created->total == 400 * 400);
}

TEST_CASE("usage history: ignores samples out of order and counters that go down",
          "[tokend][unit][usage]") {
    UsageHistory h(5s, 10);
    CHECK(h.interval() == 5s);
    h.sample(counters(5, 0, 0), t0 + 10s);
    h.sample(counters(1, 0, 0), t0 + 5s);   // older than the last one: dropped
    h.sample(counters(3, 0, 0), t0 + 15s);  // lower: 0, not a wrapped huge number
    h.sample(counters(4, 0, 0), t0 + 20s);
    const admin::Usage u = h.usage();
    CHECK(u.interval_seconds == 5);
    CHECK(find_series(u, "tokens-created")->per_interval == std::vector<std::uint64_t>{0, 1});
}

TEST_CASE("usage history: safe to sample and read from different threads",
          "[tokend][unit][usage]") {
    UsageHistory h(10s, 50);
    std::thread writer([&] {
        for (std::uint64_t i = 0; i < 2000; ++i) {
            h.sample(counters(i, i, i, {{"invalid_grant", i}}), t0 + std::chrono::seconds(i));
        }
    });
    std::size_t reads = 0;
    for (int i = 0; i < 500; ++i) {
        const admin::Usage u = h.usage();
        for (const auto& s : u.series) {
            CHECK(s.per_interval.size() <= 50);
        }
        ++reads;
    }
    writer.join();
    const admin::Usage u = h.usage();
    CHECK(reads == 500);
    CHECK(find_series(u, "refreshes")->per_interval == std::vector<std::uint64_t>(50, 1));
    CHECK(find_series(u, "failures-invalid_grant")->total == 1999);
}
