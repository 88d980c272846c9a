// Decaying failure scores with doubling blocks, per key (see failure_throttle.hpp).
#include "common/failure_throttle.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

namespace tka {

namespace {

// A score below this carries no information: the key is dropped first when room is needed.
constexpr double kNegligibleScore = 0.01;
// Enough doublings to pass any cap that fits in a duration of seconds.
constexpr int kMaxLevel = 40;

int ceil_seconds(FailureThrottle::Clock::duration d) {
    const double seconds = std::chrono::duration<double>(d).count();
    return std::max(1, static_cast<int>(std::ceil(seconds)));
}

}  // namespace

FailureThrottle::FailureThrottle(Options options) : options_(options) {
    // Written so that NaN also ends up off.
    threshold_ = options_.threshold > 0 ? options_.threshold : 0;
    options_.half_life = std::max(options_.half_life, std::chrono::duration<double>(1e-3));
    options_.penalty = std::max(options_.penalty, std::chrono::seconds(1));
    options_.max_penalty = std::max(options_.max_penalty, options_.penalty);
    options_.max_keys =
        std::clamp<std::size_t>(options_.max_keys, 1, std::numeric_limits<std::uint32_t>::max());
}

double FailureThrottle::decayed(const Entry& e, Clock::time_point now) const {
    if (now <= e.updated) {
        return e.score;
    }
    const double halvings = (now - e.updated) / options_.half_life;
    return e.score * std::exp2(-halvings);
}

std::chrono::seconds FailureThrottle::penalty_for(int level) const {
    std::chrono::seconds p = options_.penalty;
    for (int i = 0; i < level && p < options_.max_penalty; ++i) {
        p *= 2;
    }
    return std::min(p, options_.max_penalty);
}

FailureThrottle::Entry* FailureThrottle::find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &slots_[it->second].entry;
}

const FailureThrottle::Entry* FailureThrottle::find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &slots_[it->second].entry;
}

FailureThrottle::Entry& FailureThrottle::insert(const std::string& key, Clock::time_point now) {
    if (slots_.size() >= options_.max_keys) {
        make_room(now);
    }
    const auto position = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(Slot{Entry{0, now, {}, 0}, nullptr});
    try {
        slots_.back().node = &*index_.emplace(key, position).first;
    } catch (...) {
        slots_.pop_back();
        throw;
    }
    return slots_.back().entry;
}

void FailureThrottle::remove(std::size_t position) {
    index_.erase(index_.find(slots_[position].node->first));
    if (position + 1 != slots_.size()) {
        slots_[position] = slots_.back();
        slots_[position].node->second = static_cast<std::uint32_t>(position);
    }
    slots_.pop_back();
}

FailureThrottle::Decision FailureThrottle::check(const std::string& key,
                                                 Clock::time_point now) const {
    if (!enabled()) {
        return {};
    }
    std::lock_guard lock(mutex_);
    const Entry* e = find(key);
    if (e == nullptr || now >= e->blocked_until) {
        return {};
    }
    return {false, ceil_seconds(e->blocked_until - now)};
}

FailureThrottle::Outcome FailureThrottle::failure(const std::string& key, Clock::time_point now) {
    if (!enabled()) {
        return {};
    }
    std::lock_guard lock(mutex_);
    Entry* found = find(key);
    Entry& e = found != nullptr ? *found : insert(key, now);
    const bool blocked = now < e.blocked_until;
    if (!blocked && now - std::max(e.updated, e.blocked_until) >= options_.half_life) {
        e.level = 0;  // a half-life without failures since the last block: a new episode
    }
    const double score = decayed(e, now) + 1;
    e.score = score;
    e.updated = std::max(e.updated, now);
    if (blocked || score <= threshold_) {
        return {};
    }
    const std::chrono::seconds penalty = penalty_for(e.level);
    e.blocked_until = now + penalty;
    e.level = std::min(e.level + 1, kMaxLevel);
    ++blocks_total_;
    return {true, static_cast<int>(penalty.count())};
}

void FailureThrottle::success(const std::string& key, Clock::time_point now) {
    if (!enabled()) {
        return;
    }
    std::lock_guard lock(mutex_);
    Entry* e = find(key);
    if (e == nullptr) {
        return;  // never adds a key: clients that do not fail cost no memory
    }
    e->score = decayed(*e, now);
    e->updated = std::max(e->updated, now);
    e->level = 0;
    if (options_.success_ends_block) {
        e->blocked_until = std::min(e->blocked_until, now);
    }
}

double FailureThrottle::score(const std::string& key, Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    const Entry* e = find(key);
    return e == nullptr ? 0.0 : decayed(*e, now);
}

void FailureThrottle::make_room(Clock::time_point now) {
    // One pass over the table. Rank: unblocked before blocked, then lowest score, then
    // longest idle. Keys that decayed to nothing are unblocked with the lowest scores, so
    // they come first: all of them go, and more if that does not free an eighth.
    using Rank = std::tuple<bool, double, Clock::time_point>;
    std::vector<std::pair<Rank, std::uint32_t>> ranked;
    ranked.reserve(slots_.size());
    std::size_t negligible = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const Entry& e = slots_[i].entry;
        const bool blocked = now < e.blocked_until;
        const double score = decayed(e, now);
        if (!blocked && score < kNegligibleScore) {
            ++negligible;
        }
        ranked.push_back({Rank{blocked, score, e.updated}, static_cast<std::uint32_t>(i)});
    }
    const std::size_t target = options_.max_keys - std::max<std::size_t>(1, options_.max_keys / 8);
    const std::size_t excess = slots_.size() > target ? slots_.size() - target : 0;
    const std::size_t evict = std::min(ranked.size(), std::max(excess, negligible));
    const auto cut = ranked.begin() + static_cast<std::ptrdiff_t>(evict);
    std::nth_element(ranked.begin(), cut, ranked.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    // Highest position first: the slot that remove() moves into a freed position comes
    // from the end, so it is never one that is still to be removed.
    std::sort(ranked.begin(), cut,
              [](const auto& a, const auto& b) { return a.second > b.second; });
    for (auto it = ranked.begin(); it != cut; ++it) {
        remove(it->second);
    }
    evictions_total_ += evict;
}

std::size_t FailureThrottle::tracked_keys() const {
    std::lock_guard lock(mutex_);
    return slots_.size();
}

std::size_t FailureThrottle::blocked_keys(Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(slots_.begin(), slots_.end(),
                      [&](const Slot& slot) { return now < slot.entry.blocked_until; }));
}

std::uint64_t FailureThrottle::blocks_total() const {
    std::lock_guard lock(mutex_);
    return blocks_total_;
}

std::uint64_t FailureThrottle::evictions_total() const {
    std::lock_guard lock(mutex_);
    return evictions_total_;
}

}  // namespace tka
