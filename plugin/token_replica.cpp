// The local token replica (see token_replica.hpp).
#include "plugin/token_replica.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

#include "common/crypto.hpp"

namespace tka::plugin {

namespace {

constexpr std::uint32_t kNone = ReplicaIndex::kNone;
static_assert(kMaxCacheEntries <= ReplicaIndex::kMaxSlots);
// User ids are 12..64 chars (common/identifiers.hpp); longer ones (data from elsewhere) are
// hashed through a heap buffer.
constexpr std::size_t kTagBuffer = 32 + 128;

template <std::size_t N>
bool parse_hex_into(std::string_view hex, std::array<std::uint8_t, N>& out) {
    if (hex.size() != 2 * N) {
        return false;
    }
    for (std::size_t i = 0; i < N; ++i) {
        const int hi = crypto::hex_digit_value(hex[2 * i]);
        const int lo = crypto::hex_digit_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

// splitmix64's finalizer: every output bit depends on every input bit.
std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Index hashes. A digest is already uniformly distributed; a UUID has fixed version bits
// and ids from other sources may not be random, so both halves are mixed.
std::uint64_t hash_of(const PasswordDigest& digest) {
    std::uint64_t h = 0;
    std::memcpy(&h, digest.data(), sizeof h);
    return h;
}

std::uint64_t hash_of(const UuidBytes& uuid) {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, uuid.data(), sizeof a);
    std::memcpy(&b, uuid.data() + 8, sizeof b);
    return mix(a ^ mix(b));
}

std::uint64_t hash_of(std::string_view org_id) {
    return mix(std::hash<std::string_view>{}(org_id));
}

// Compared without an early exit (digests are derived from secrets, tags from the key).
template <std::size_t N>
bool same_bytes(const std::array<std::uint8_t, N>& a, const std::array<std::uint8_t, N>& b) {
    std::uint8_t diff = 0;
    for (std::size_t i = 0; i < N; ++i) {
        diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
    }
    return diff == 0;
}

std::uint32_t clamp_seconds(UnixSeconds t) {
    if (t <= 0) {
        return 1;  // 0 marks a free slot; 1 is as expired as 0
    }
    if (t >= static_cast<UnixSeconds>(UINT32_MAX)) {
        return UINT32_MAX;
    }
    return static_cast<std::uint32_t>(t);
}

// Kept: live, or expired for less than the retention (Redis still answers "expired").
bool worth_keeping(UnixSeconds expires_at, UnixSeconds now) {
    return expires_at > now - kExpiredRetention;
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
    : max_entries_(std::clamp<std::size_t>(max_entries, 1, ReplicaIndex::kMaxSlots)) {
    const std::string key = crypto::random_bytes(tag_key_.size());
    std::memcpy(tag_key_.data(), key.data(), tag_key_.size());
}

TokenReplica::UserTag TokenReplica::user_tag(std::string_view user_id) const {
    std::array<std::uint8_t, 32> digest{};
    if (user_id.size() + tag_key_.size() <= kTagBuffer) {
        std::array<char, kTagBuffer> buf;
        std::memcpy(buf.data(), tag_key_.data(), tag_key_.size());
        std::memcpy(buf.data() + tag_key_.size(), user_id.data(), user_id.size());
        digest = crypto::sha256(std::string_view(buf.data(), tag_key_.size() + user_id.size()));
    } else {
        std::string buf(reinterpret_cast<const char*>(tag_key_.data()), tag_key_.size());
        buf.append(user_id);
        digest = crypto::sha256(buf);
    }
    UserTag tag{};
    std::memcpy(tag.data(), digest.data(), tag.size());
    return tag;
}

std::uint32_t TokenReplica::find_org(std::string_view org_id) const {
    return org_index_.find(hash_of(org_id),
                           [&](std::uint32_t org) { return org_names_[org] == org_id; });
}

std::uint32_t TokenReplica::intern_org(std::string_view org_id, bool token_auth) {
    const std::uint32_t found = find_org(org_id);
    if (found != kNone) {
        return found;
    }
    const auto org = static_cast<std::uint32_t>(org_names_.size());
    org_names_.emplace_back(org_id);
    org_on_.push_back(token_auth ? 1 : 0);
    org_index_.reserve_one([this, org](auto&& place) {
        for (std::uint32_t o = 0; o < org; ++o) {
            place(hash_of(std::string_view(org_names_[o])), o);
        }
    });
    org_index_.insert(hash_of(org_id), org);
    return org;
}

std::uint32_t TokenReplica::find_digest(const PasswordDigest& digest) const {
    return by_digest_.find(hash_of(digest), [&](std::uint32_t slot) {
        return same_bytes(entry(slot).digest, digest);
    });
}

std::uint32_t TokenReplica::find_token(const UuidBytes& token) const {
    return by_token_.find(hash_of(token),
                          [&](std::uint32_t slot) { return entry(slot).token_id == token; });
}

ReplicaAnswer TokenReplica::lookup(std::string_view org_id, std::string_view user_id,
                                   const PasswordDigest& digest, UnixSeconds now) {
    ReplicaAnswer answer;
    // Not caught up (a full sync running): answered without waiting for the lock, which the
    // sync's inserts hold while an index doubles.
    if (!caught_up_hint_.load(std::memory_order_relaxed)) {
        answer.kind = ReplicaAnswer::Kind::untrusted;
        return answer;
    }
    UserTag held{};
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // The clock is read under the lock, so a lease renewed meanwhile is never judged by
        // an older instant (and a lapsed one never by an earlier one).
        if (!trusted_ || std::chrono::steady_clock::now() >= lease_until_) {
            answer.kind = ReplicaAnswer::Kind::untrusted;
            return answer;
        }
        const ReplicaAnswer::Kind not_held =
            complete_ ? ReplicaAnswer::Kind::unknown : ReplicaAnswer::Kind::miss;
        const std::uint32_t org = find_org(org_id);
        if (org == kNone) {
            answer.kind = not_held;
            return answer;
        }
        if (org_on_[org] == 0) {
            answer.kind = ReplicaAnswer::Kind::token_auth_off;
            return answer;
        }
        const std::uint32_t slot = find_digest(digest);
        if (slot == kNone || entry(slot).org != org) {
            answer.kind = not_held;
            return answer;
        }
        const Entry& e = entry(slot);
        if (static_cast<UnixSeconds>(e.expires_at) <= now) {
            answer.kind = ReplicaAnswer::Kind::expired;
            return answer;
        }
        held = e.user;
        answer.token_id = e.token_id;
        answer.expires_at = e.expires_at;
    }
    // Hashed outside the lock, and only for a password the replica holds.
    if (same_bytes(held, user_tag(user_id))) {
        answer.kind = ReplicaAnswer::Kind::allow;
    } else {
        answer.kind = ReplicaAnswer::Kind::user_mismatch;
        answer.token_id = {};
        answer.expires_at = 0;
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
    const UserTag user = user_tag(user_id);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!trusted_ || version_ != version_before) {
        return false;
    }
    // Redis just said the org has token auth on and no event changed that since.
    const std::uint32_t org = intern_org(org_id, true);
    if (org_on_[org] == 0) {
        return false;
    }
    // Not a new version: the content is what Redis says, nothing the consumer applied.
    return insert_locked(org, user, *token, digest, expires_at, now);
}

void TokenReplica::apply(const Event& event, UnixSeconds now) {
    const bool adds =
        event.type == Event::Type::token_created || event.type == Event::Type::token_refreshed;
    const UserTag user = adds ? user_tag(event.user_id) : UserTag{};
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
            // The script checked token auth in the same atomic step.
            const std::uint32_t org = intern_org(event.org_id, true);
            insert_locked(org, user, *token, *digest, event.expires_at, now);
            return;
        }
        case Event::Type::token_revoked: {
            if (const auto token = parse_lowercase_uuid(event.token_id)) {
                drop_token(*token);
            }
            return;
        }
        case Event::Type::org_updated: {
            const std::uint32_t org = intern_org(event.org_id, event.token_auth);
            org_on_[org] = event.token_auth ? 1 : 0;
            return;
        }
    }
}

void TokenReplica::clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++version_;
    blocks_.clear();
    blocks_.shrink_to_fit();
    slots_used_ = 0;
    free_head_ = kNone;
    by_digest_.clear();
    by_token_.clear();
    org_index_.clear();
    org_names_.clear();
    org_on_.clear();
    live_ = 0;
    purge_cursor_ = 0;
    dropped_ = 0;
    complete_ = true;
}

void TokenReplica::set_org(std::string_view org_id, bool token_auth) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++version_;
    org_on_[intern_org(org_id, token_auth)] = token_auth ? 1 : 0;
}

bool TokenReplica::insert(std::string_view org_id, std::string_view user_id,
                          std::string_view token_id, std::string_view digest_hex,
                          UnixSeconds expires_at, UnixSeconds now) {
    const auto token = parse_lowercase_uuid(token_id);
    const auto digest = parse_digest_hex(digest_hex);
    if (!token || !digest) {
        return false;
    }
    const UserTag user = user_tag(user_id);
    std::lock_guard<std::mutex> lock(mutex_);
    ++version_;
    drop_token(*token);
    // An org the sync did not set (it lists orgs first): the record exists, so it is on.
    return insert_locked(intern_org(org_id, true), user, *token, *digest, expires_at, now);
}

bool TokenReplica::insert_locked(std::uint32_t org, const UserTag& user, const UuidBytes& token,
                                 const PasswordDigest& digest, UnixSeconds expires_at,
                                 UnixSeconds now) {
    if (!worth_keeping(expires_at, now)) {
        return false;  // Redis has deleted its record too
    }
    drop_token(token);
    // The same password digest twice (never for random passwords): the older entry goes.
    if (const std::uint32_t old = find_digest(digest); old != kNone) {
        drop_slot(old);
    }
    if (live_ >= max_entries_) {
        complete_ = false;
        ++dropped_;
        return false;
    }
    // Before the slot is taken: a rebuild walks the live entries only.
    by_digest_.reserve_one([this](auto&& place) {
        for_each_live([&](std::uint32_t s, const Entry& e) { place(hash_of(e.digest), s); });
    });
    by_token_.reserve_one([this](auto&& place) {
        for_each_live([&](std::uint32_t s, const Entry& e) { place(hash_of(e.token_id), s); });
    });
    const std::uint32_t slot = allocate_slot();
    Entry& e = entry(slot);
    e.digest = digest;
    e.token_id = token;
    e.user = user;
    e.expires_at = clamp_seconds(expires_at);
    e.org = org;
    by_digest_.insert(hash_of(digest), slot);
    by_token_.insert(hash_of(token), slot);
    ++live_;
    return true;
}

template <class F>
void TokenReplica::for_each_live(F&& f) const {
    for (std::uint32_t slot = 0; slot < slots_used_; ++slot) {
        const Entry& e = entry(slot);
        if (e.expires_at != 0) {
            f(slot, e);
        }
    }
}

std::uint32_t TokenReplica::allocate_slot() {
    if (free_head_ != kNone) {
        const std::uint32_t slot = free_head_;
        free_head_ = entry(slot).org;
        return slot;
    }
    if (slots_used_ == blocks_.size() * kBlockEntries) {
        blocks_.push_back(std::make_unique_for_overwrite<Entry[]>(kBlockEntries));
    }
    return slots_used_++;
}

void TokenReplica::drop_slot(std::uint32_t slot) {
    Entry& e = entry(slot);
    if (e.expires_at == 0) {
        return;
    }
    by_digest_.erase(hash_of(e.digest), slot,
                     [this](std::uint32_t s) { return hash_of(entry(s).digest); });
    by_token_.erase(hash_of(e.token_id), slot,
                    [this](std::uint32_t s) { return hash_of(entry(s).token_id); });
    e.expires_at = 0;
    e.org = free_head_;
    free_head_ = slot;
    --live_;
}

void TokenReplica::drop_token(const UuidBytes& token) {
    if (const std::uint32_t slot = find_token(token); slot != kNone) {
        drop_slot(slot);
    }
}

std::size_t TokenReplica::purge_expired(UnixSeconds now, std::size_t max_steps) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t dropped = 0;
    for (std::size_t step = 0; step < max_steps && slots_used_ > 0; ++step) {
        if (purge_cursor_ >= slots_used_) {
            purge_cursor_ = 0;
        }
        const std::uint32_t slot = purge_cursor_++;
        const std::uint32_t expires_at = entry(slot).expires_at;
        if (expires_at != 0 && !worth_keeping(expires_at, now)) {
            drop_slot(slot);
            ++dropped;
        }
    }
    // No new version: what Redis would answer for a purged token (its record is gone too)
    // is what lookup() answers now, so a fill() in flight stays right.
    return dropped;
}

std::optional<ReplicaNotice> TokenReplica::take_notice() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (complete_ == reported_complete_) {
        return std::nullopt;
    }
    reported_complete_ = complete_;
    ReplicaNotice notice;
    if (complete_) {
        notice.level = LogLevel::notice;
        notice.message = "token replica complete again: " + std::to_string(live_) +
                         " token(s) in memory; unknown passwords are refused without Redis";
    } else {
        notice.level = LogLevel::warning;
        notice.message = "token replica incomplete: more than " + std::to_string(max_entries_) +
                         " tokens (plugin_opt_cache_max_entries); passwords it does not hold "
                         "are checked in Redis until a full sync fits again";
    }
    return notice;
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
    caught_up_hint_.store(trusted, std::memory_order_relaxed);
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

bool TokenReplica::complete() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return complete_;
}

ReplicaStats TokenReplica::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    ReplicaStats s;
    s.entries = live_;
    s.orgs = org_names_.size();
    s.max_entries = max_entries_;
    s.bytes = blocks_.size() * kBlockEntries * sizeof(Entry) + by_digest_.bytes() +
              by_token_.bytes() + org_index_.bytes();
    s.dropped = dropped_;
    s.complete = complete_;
    s.trusted = trusted_ && std::chrono::steady_clock::now() < lease_until_;
    return s;
}

}  // namespace tka::plugin
