// The local token replica (see token_replica.hpp).
#include "plugin/token_replica.hpp"

#include <cstring>
#include <functional>

namespace tka::plugin {

namespace {

constexpr std::uint8_t kLive = 1;
constexpr std::uint8_t kReferenced = 2;

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

template <std::size_t N>
bool parse_hex_into(std::string_view hex, std::array<std::uint8_t, N>& out) {
    if (hex.size() != 2 * N) {
        return false;
    }
    for (std::size_t i = 0; i < N; ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

// Index keys: a digest's first 8 bytes are already uniformly distributed; a UUID has fixed
// version bits and ids from other sources may not be random, so both halves are mixed.
std::uint64_t key_of(const PasswordDigest& digest) {
    std::uint64_t key = 0;
    std::memcpy(&key, digest.data(), sizeof key);
    return key;
}

std::uint64_t key_of(const std::array<std::uint8_t, 16>& uuid) {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, uuid.data(), sizeof a);
    std::memcpy(&b, uuid.data() + 8, sizeof b);
    return a ^ (b * 0x9E3779B97F4A7C15ULL) ^ (b >> 29);
}

std::uint64_t user_hash(std::string_view user_id) {
    return std::hash<std::string_view>{}(user_id);
}

// Digests are compared without an early exit (they are derived from secrets).
bool same_digest(const PasswordDigest& a, const PasswordDigest& b) {
    std::uint8_t diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
    }
    return diff == 0;
}

std::uint32_t clamp_seconds(UnixSeconds t) {
    if (t <= 0) {
        return 0;
    }
    if (t >= static_cast<UnixSeconds>(UINT32_MAX)) {
        return UINT32_MAX;
    }
    return static_cast<std::uint32_t>(t);
}

}  // namespace

std::optional<PasswordDigest> parse_digest_hex(std::string_view hex) {
    PasswordDigest out{};
    if (!parse_hex_into(hex, out)) {
        return std::nullopt;
    }
    return out;
}

TokenReplica::TokenReplica(std::size_t max_entries)
    : max_entries_(max_entries == 0 ? 1 : max_entries) {}

std::uint32_t TokenReplica::intern_org(std::string_view org_id) {
    const auto it = org_index_.find(std::string(org_id));
    if (it != org_index_.end()) {
        return it->second;
    }
    const auto index = static_cast<std::uint32_t>(org_names_.size());
    org_names_.emplace_back(org_id);
    org_states_.push_back(OrgState::unknown);
    org_index_.emplace(std::string(org_id), index);
    return index;
}

std::optional<std::uint32_t> TokenReplica::find_org(std::string_view org_id) const {
    const auto it = org_index_.find(std::string(org_id));
    if (it == org_index_.end()) {
        return std::nullopt;
    }
    return it->second;
}

ReplicaAnswer TokenReplica::lookup(std::string_view org_id, std::string_view user_id,
                                   const PasswordDigest& digest, UnixSeconds now) {
    ReplicaAnswer answer;
    std::lock_guard<std::mutex> lock(mutex_);
    // The clock is read under the lock, so a lease renewed meanwhile is never judged by an
    // older instant (and a lapsed one never by an earlier one).
    if (!trusted_ || std::chrono::steady_clock::now() >= lease_until_) {
        answer.kind = ReplicaAnswer::Kind::untrusted;
        return answer;
    }
    const auto org = find_org(org_id);
    if (!org) {
        return answer;
    }
    if (org_states_[*org] == OrgState::off) {
        answer.kind = ReplicaAnswer::Kind::token_auth_off;
        return answer;
    }
    if (org_states_[*org] != OrgState::on) {
        return answer;
    }
    const auto it = by_digest_.find(key_of(digest));
    if (it == by_digest_.end()) {
        return answer;
    }
    Entry& e = slots_[it->second];
    if (!same_digest(e.digest, digest) || e.org != *org) {
        return answer;
    }
    flags_[it->second] |= kReferenced;
    if (static_cast<UnixSeconds>(e.expires_at) <= now) {
        answer.kind = ReplicaAnswer::Kind::expired;
    } else if (e.user_hash != user_hash(user_id)) {
        answer.kind = ReplicaAnswer::Kind::user_mismatch;
    } else {
        answer.kind = ReplicaAnswer::Kind::allow;
        answer.token_id = format_lowercase_uuid(e.token_id);
        answer.expires_at = e.expires_at;
    }
    return answer;
}

std::uint64_t TokenReplica::version() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return version_;
}

bool TokenReplica::fill(std::uint64_t version_before, std::string_view org_id,
                        std::string_view user_id, std::string_view token_id,
                        const PasswordDigest& digest, UnixSeconds expires_at, UnixSeconds now) {
    const auto token = parse_lowercase_uuid(token_id);
    if (!token) {
        return false;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!trusted_ || version_ != version_before) {
        return false;
    }
    const std::uint32_t org = intern_org(org_id);
    if (org_states_[org] == OrgState::off) {
        return false;
    }
    // Redis just said the org has token auth on and no event changed that since.
    org_states_[org] = OrgState::on;
    // Not a new version: the content is what Redis says, nothing the consumer applied.
    return insert_locked(org, user_hash(user_id), *token, digest, expires_at, now);
}

void TokenReplica::apply(const Event& event, UnixSeconds now) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++version_;
    switch (event.type) {
        case Event::Type::token_created:
        case Event::Type::token_refreshed: {
            const auto token = parse_lowercase_uuid(event.token_id);
            if (!token) {
                return;
            }
            drop_token(*token);  // a refresh forgets the old digest
            const auto digest = parse_digest_hex(event.password_digest);
            if (!digest) {
                return;
            }
            const std::uint32_t org = intern_org(event.org_id);
            // The script checked token auth in the same atomic step.
            if (org_states_[org] == OrgState::unknown) {
                org_states_[org] = OrgState::on;
            }
            insert_locked(org, user_hash(event.user_id), *token, *digest, event.expires_at, now);
            return;
        }
        case Event::Type::token_revoked: {
            if (const auto token = parse_lowercase_uuid(event.token_id)) {
                drop_token(*token);
            }
            return;
        }
        case Event::Type::org_updated: {
            const std::uint32_t org = intern_org(event.org_id);
            org_states_[org] = event.token_auth ? OrgState::on : OrgState::off;
            return;
        }
    }
}

void TokenReplica::clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++version_;
    slots_.clear();
    flags_.clear();
    free_.clear();
    by_digest_.clear();
    by_token_.clear();
    org_names_.clear();
    org_states_.clear();
    org_index_.clear();
    live_ = 0;
    hand_ = 0;
}

void TokenReplica::set_org(std::string_view org_id, bool token_auth) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++version_;
    org_states_[intern_org(org_id)] = token_auth ? OrgState::on : OrgState::off;
}

bool TokenReplica::insert(std::string_view org_id, std::string_view user_id,
                          std::string_view token_id, std::string_view digest_hex,
                          UnixSeconds expires_at, UnixSeconds now) {
    const auto token = parse_lowercase_uuid(token_id);
    const auto digest = parse_digest_hex(digest_hex);
    if (!token || !digest) {
        return false;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++version_;
    drop_token(*token);
    return insert_locked(intern_org(org_id), user_hash(user_id), *token, *digest, expires_at, now);
}

bool TokenReplica::insert_locked(std::uint32_t org, std::uint64_t user,
                                 const std::array<std::uint8_t, 16>& token,
                                 const PasswordDigest& digest, UnixSeconds expires_at,
                                 UnixSeconds now) {
    if (expires_at <= now) {
        return false;  // nothing to remember about a dead token
    }
    drop_token(token);
    // Index collisions (first 8 bytes equal): the older entry goes.
    if (const auto it = by_digest_.find(key_of(digest)); it != by_digest_.end()) {
        drop_slot(it->second);
    }
    if (const auto it = by_token_.find(key_of(token)); it != by_token_.end()) {
        drop_slot(it->second);
    }
    const std::uint32_t slot = allocate_slot(now);
    Entry& e = slots_[slot];
    e.digest = digest;
    e.token_id = token;
    e.user_hash = user;
    e.expires_at = clamp_seconds(expires_at);
    e.org = org;
    flags_[slot] = kLive | kReferenced;
    by_digest_[key_of(digest)] = slot;
    by_token_[key_of(token)] = slot;
    ++live_;
    return true;
}

std::uint32_t TokenReplica::allocate_slot(UnixSeconds now) {
    if (!free_.empty()) {
        const std::uint32_t slot = free_.back();
        free_.pop_back();
        return slot;
    }
    if (slots_.size() < max_entries_) {
        slots_.emplace_back();
        flags_.push_back(0);
        return static_cast<std::uint32_t>(slots_.size() - 1);
    }
    // Full: CLOCK. Expired entries go at once; referenced ones get a second chance. At most
    // two sweeps (the first clears every referenced bit).
    for (std::size_t step = 0; step < 2 * slots_.size(); ++step) {
        const std::size_t slot = hand_;
        hand_ = (hand_ + 1) % slots_.size();
        if ((flags_[slot] & kLive) == 0) {
            continue;
        }
        const bool expired = static_cast<UnixSeconds>(slots_[slot].expires_at) <= now;
        if (!expired && (flags_[slot] & kReferenced) != 0) {
            flags_[slot] = static_cast<std::uint8_t>(flags_[slot] & ~kReferenced);
            continue;
        }
        drop_slot(static_cast<std::uint32_t>(slot));
        ++evictions_;
        free_.pop_back();  // drop_slot freed exactly this slot
        return static_cast<std::uint32_t>(slot);
    }
    // Unreachable with max_entries_ >= 1: every live slot is evictable on the second sweep.
    drop_slot(0);
    free_.pop_back();
    return 0;
}

void TokenReplica::drop_slot(std::uint32_t slot) {
    if ((flags_[slot] & kLive) == 0) {
        return;
    }
    const Entry& e = slots_[slot];
    if (const auto it = by_digest_.find(key_of(e.digest));
        it != by_digest_.end() && it->second == slot) {
        by_digest_.erase(it);
    }
    if (const auto it = by_token_.find(key_of(e.token_id));
        it != by_token_.end() && it->second == slot) {
        by_token_.erase(it);
    }
    flags_[slot] = 0;
    free_.push_back(slot);
    --live_;
}

void TokenReplica::drop_token(const std::array<std::uint8_t, 16>& token) {
    const auto it = by_token_.find(key_of(token));
    if (it != by_token_.end() && slots_[it->second].token_id == token) {
        drop_slot(it->second);
    }
}

bool TokenReplica::set_trusted(bool trusted) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!trusted) {
        lease_until_ = {};
    }
    if (trusted_ == trusted) {
        return false;
    }
    trusted_ = trusted;
    ++version_;
    return true;
}

void TokenReplica::renew_lease(std::chrono::steady_clock::time_point until) {
    std::lock_guard<std::mutex> lock(mutex_);
    lease_until_ = until;
}

bool TokenReplica::trusted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return trusted_ && std::chrono::steady_clock::now() < lease_until_;
}

bool TokenReplica::caught_up() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return trusted_;
}

ReplicaStats TokenReplica::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    ReplicaStats s;
    s.entries = live_;
    s.orgs = org_names_.size();
    s.evictions = evictions_;
    s.trusted = trusted_ && std::chrono::steady_clock::now() < lease_until_;
    return s;
}

}  // namespace tka::plugin
