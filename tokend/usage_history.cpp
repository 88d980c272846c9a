// Sampling and differencing of tokend's counters for the usage page (see usage_history.hpp).
#include "tokend/usage_history.hpp"

#include <set>
#include <string>

namespace tka::tokend {

namespace {

std::uint64_t error_count(const MetricsSnapshot& s, const std::string& code) {
    const auto it = s.errors.find(code);
    return it == s.errors.end() ? 0 : it->second;
}

// "invalid_client" -> "failures-invalid_client"; codes are [a-z_] already, anything else
// becomes '-', so the id stays a valid, stable element id.
std::string failure_id(const std::string& code) {
    std::string id = "failures-";
    for (const char c : code) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        id += ok ? c : '-';
    }
    return id;
}

}  // namespace

UsageHistory::UsageHistory(std::chrono::seconds interval, std::size_t capacity)
    : interval_(interval), capacity_(capacity == 0 ? 1 : capacity) {}

void UsageHistory::sample(const MetricsSnapshot& counters,
                          std::chrono::steady_clock::time_point at) {
    std::lock_guard lock(mutex_);
    if (!samples_.empty() && at < samples_.back().at) {
        return;
    }
    samples_.push_back(Sample{counters, at});
    while (samples_.size() > capacity_ + 1) {
        samples_.pop_front();
    }
}

admin::Usage UsageHistory::usage() const {
    std::lock_guard lock(mutex_);
    admin::Usage usage;
    usage.interval_seconds = interval_.count();

    using Getter = std::uint64_t (*)(const MetricsSnapshot&, const std::string&);
    auto series = [&](std::string name, std::string id, Getter get, const std::string& arg) {
        admin::UsageSeries s;
        s.name = std::move(name);
        s.id = std::move(id);
        for (std::size_t i = 1; i < samples_.size(); ++i) {
            const std::uint64_t before = get(samples_[i - 1].counters, arg);
            const std::uint64_t after = get(samples_[i].counters, arg);
            s.per_interval.push_back(after >= before ? after - before : 0);
        }
        s.total = samples_.empty() ? 0 : get(samples_.back().counters, arg);
        usage.series.push_back(std::move(s));
    };
    const std::string none;
    series(
        "Tokens created", "tokens-created",
        [](const MetricsSnapshot& s, const std::string&) { return s.issued; }, none);
    series(
        "Refreshes", "refreshes",
        [](const MetricsSnapshot& s, const std::string&) { return s.refreshed; }, none);
    series(
        "Revokes", "revokes",
        [](const MetricsSnapshot& s, const std::string&) { return s.revoked; }, none);

    std::set<std::string> codes;
    for (const Sample& s : samples_) {
        for (const auto& [code, count] : s.counters.errors) {
            if (count > 0) {
                codes.insert(code);
            }
        }
    }
    for (const std::string& code : codes) {
        series(std::string("Failures: ").append(code), failure_id(code), &error_count, code);
    }
    return usage;
}

}  // namespace tka::tokend
