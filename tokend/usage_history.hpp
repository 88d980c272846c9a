// The dashboard's usage charts over the last hour: tokend's counters (Metrics::snapshot())
// sampled at a fixed interval and kept in a ring of the last `capacity` intervals. A chart
// bar is the difference between two consecutive samples, so the history costs a few
// kilobytes whatever the traffic, and nothing is stored in Redis: each tokend shows its own
// traffic since it started. The caller takes one sample at start and then one per interval
// (a timer on tokend's event loop); pages read usage() from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>

#include "tokend/admin_pages.hpp"
#include "tokend/metrics.hpp"

namespace tka::tokend {

class UsageHistory {
  public:
    static constexpr std::chrono::seconds kDefaultInterval{10};
    static constexpr std::size_t kDefaultCapacity = 360;  // intervals: one hour at 10 s

    explicit UsageHistory(std::chrono::seconds interval = kDefaultInterval,
                          std::size_t capacity = kDefaultCapacity);

    std::chrono::seconds interval() const { return interval_; }

    // Records the counters as they are at `at`. A sample older than the previous one is
    // ignored; a counter lower than before (cannot happen within one process) counts as 0.
    void sample(const MetricsSnapshot& counters, std::chrono::steady_clock::time_point at);

    // One series per counter, oldest interval first: "Tokens created", "Refreshes",
    // "Revokes", then "Failures: CODE" for each error code seen so far (by code). Totals are
    // the latest sample's (since tokend started).
    admin::Usage usage() const;

  private:
    struct Sample {
        MetricsSnapshot counters;
        std::chrono::steady_clock::time_point at;
    };

    std::chrono::seconds interval_;
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<Sample> samples_;  // at most capacity_ + 1: capacity_ differences
};

}  // namespace tka::tokend
