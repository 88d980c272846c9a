// Deadline tracking of token connections in slots, chains and flat indexes (see
// connection_tracker.hpp).
#include "plugin/connection_tracker.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace tka::plugin {
namespace {

std::uint32_t length_of(std::string_view s) {
    if (s.size() >= std::numeric_limits<std::uint32_t>::max()) {
        throw std::length_error("connection tracker: identifier too long");
    }
    return static_cast<std::uint32_t>(s.size());
}

}  // namespace

bool TokenIdView::operator==(std::string_view other) const {
    if (!is_uuid) {
        return text == other;
    }
    const auto parsed = parse_lowercase_uuid(other);
    return parsed && *parsed == uuid;
}

std::uint64_t ConnectionTracker::default_hash(std::string_view bytes) {
    return std::hash<std::string_view>{}(bytes);
}

ConnectionTracker::ConnectionTracker(KeyHash hash) : hash_(hash) {}

ConnectionTracker::~ConnectionTracker() = default;

// ---- slots -------------------------------------------------------------------------------

std::uint32_t ConnectionTracker::allocate_slot() {
    if (free_head_ != kNone) {
        const std::uint32_t i = free_head_;
        free_head_ = slot(i).by_org.next;
        slot(i).by_org = Links{};
        return i;
    }
    if (slot_count_ == kNone) {
        throw std::length_error("connection tracker: too many connections");
    }
    if ((slot_count_ >> kChunkShift) == chunks_.size()) {
        chunks_.push_back(std::make_unique<Slot[]>(std::size_t{1} << kChunkShift));
    }
    return slot_count_++;
}

void ConnectionTracker::free_slot(std::uint32_t i) {
    Slot& s = slot(i);
    s = Slot{};  // frees the text block; an unused slot matches no heap node
    s.by_org.next = free_head_;
    free_head_ = i;
}

std::uint32_t ConnectionTracker::slot_of(Handle handle) const {
    return by_handle_.find(hash_handle(handle), [&](std::uint32_t i) {
        return slot(i).handle == handle;  // indexed slots are all in use
    });
}

std::string_view ConnectionTracker::client_of(const Slot& s) {
    return {s.text.get(), s.client_len};
}

std::string_view ConnectionTracker::user_of(const Slot& s) {
    return {s.text.get() + s.client_len, s.user_len};
}

TokenIdView ConnectionTracker::token_of(const Slot& s) {
    TokenIdView v;
    v.is_uuid = s.token_is_uuid;
    if (s.token_is_uuid) {
        v.uuid = s.token;
    } else {
        v.text = {s.text.get() + s.client_len + s.user_len, s.token_len};
    }
    return v;
}

// ---- keys --------------------------------------------------------------------------------

ConnectionTracker::TokenKey ConnectionTracker::token_key(std::uint32_t org,
                                                         std::string_view token_id) {
    TokenKey key;
    key.org = org;
    if (const auto uuid = parse_lowercase_uuid(token_id)) {
        key.id.is_uuid = true;
        key.id.uuid = *uuid;
    } else {
        key.id.text = token_id;
    }
    return key;
}

std::optional<ConnectionTracker::TokenKey> ConnectionTracker::find_token_key(
    std::string_view org_id, std::string_view token_id) const {
    const std::uint32_t org = find_org(org_id);
    if (org == kNone) {
        return std::nullopt;
    }
    return token_key(org, token_id);
}

bool ConnectionTracker::same_token(const Slot& s, const TokenKey& key) {
    if (s.org != key.org || s.token_is_uuid != key.id.is_uuid) {
        return false;
    }
    if (key.id.is_uuid) {
        return s.token == key.id.uuid;
    }
    return std::string_view(s.text.get() + s.client_len + s.user_len, s.token_len) == key.id.text;
}

std::uint64_t ConnectionTracker::hash_token(const TokenKey& key) const {
    // A text id never equals a UUID's 16 raw bytes (those ids are stored as UUIDs), and
    // equal hashes are harmless anyway: the slot is compared in full, org included.
    const std::uint64_t h =
        key.id.is_uuid ? hash_(std::string_view(reinterpret_cast<const char*>(key.id.uuid.data()),
                                                key.id.uuid.size()))
                       : hash_(key.id.text);
    return h ^ (0x9E3779B97F4A7C15ULL * (std::uint64_t{key.org} + 1));
}

std::uint64_t ConnectionTracker::hash_handle(Handle handle) const {
    char bytes[sizeof(Handle)];
    std::memcpy(bytes, &handle, sizeof bytes);
    return hash_(std::string_view(bytes, sizeof bytes));
}

std::uint32_t ConnectionTracker::token_head(const TokenKey& key) const {
    return by_token_.find(hash_token(key),
                          [&](std::uint32_t i) { return same_token(slot(i), key); });
}

// ---- chains ------------------------------------------------------------------------------

void ConnectionTracker::link_after(Links Slot::*member, std::uint32_t head, std::uint32_t i) {
    Links& links = slot(i).*member;
    links = Links{};
    if (head == kNone) {
        return;
    }
    Links& head_links = slot(head).*member;
    links.prev = head;
    links.next = head_links.next;
    if (head_links.next != kNone) {
        (slot(head_links.next).*member).prev = i;
    }
    head_links.next = i;
}

std::uint32_t ConnectionTracker::unlink(Links Slot::*member, std::uint32_t i) {
    Links& links = slot(i).*member;
    const Links old = links;
    links = Links{};
    if (old.next != kNone) {
        (slot(old.next).*member).prev = old.prev;
    }
    if (old.prev != kNone) {
        (slot(old.prev).*member).next = old.next;
        return kNone;  // not the head: the head stays
    }
    return old.next;  // `i` was the head: its successor (or kNone) heads the chain now
}

// ---- orgs --------------------------------------------------------------------------------

std::uint32_t ConnectionTracker::find_org(std::string_view org_id) const {
    return by_org_name_.find(hash_(org_id),
                             [&](std::uint32_t o) { return orgs_[o].name == org_id; });
}

std::uint32_t ConnectionTracker::intern_org(std::string_view org_id) {
    std::uint32_t o = find_org(org_id);
    if (o == kNone) {
        // Allocate first, change state after: release_org() never allocates (free_orgs_
        // always has room for every org), and neither does insert() after reserve_one().
        std::string name(org_id);
        by_org_name_.reserve_one();
        if (free_orgs_.empty()) {
            free_orgs_.reserve(orgs_.size() + 1);
            orgs_.emplace_back();
            o = static_cast<std::uint32_t>(orgs_.size() - 1);
        } else {
            o = free_orgs_.back();
            free_orgs_.pop_back();
        }
        orgs_[o].name = std::move(name);
        by_org_name_.insert(hash_(org_id), o);
    }
    ++orgs_[o].refs;
    return o;
}

void ConnectionTracker::release_org(std::uint32_t o) {
    Org& org = orgs_[o];
    if (--org.refs > 0) {
        return;
    }
    by_org_name_.erase(hash_(org.name), o);
    org = Org{};
    free_orgs_.push_back(o);
}

// ---- heap --------------------------------------------------------------------------------

void ConnectionTracker::push(std::uint32_t i) {
    Slot& s = slot(i);
    s.generation = next_generation_++;
    s.in_heap = true;
    heap_.push_back(Node{s.deadline_ms, s.generation, i});
    std::push_heap(heap_.begin(), heap_.end(), NodeLater{});
    maybe_compact();
}

bool ConnectionTracker::live(const Node& node) const {
    const Slot& s = slot(node.slot);
    return s.used && s.in_heap && s.generation == node.generation;
}

void ConnectionTracker::drop_stale_top() {
    while (!heap_.empty() && !live(heap_.front())) {
        std::pop_heap(heap_.begin(), heap_.end(), NodeLater{});
        heap_.pop_back();
    }
}

void ConnectionTracker::maybe_compact() {
    // Stale nodes come from removals and extensions; rebuild once they dominate.
    if (heap_.size() <= 64 || heap_.size() <= 2 * live_) {
        return;
    }
    std::vector<Node> nodes;
    nodes.reserve(live_);
    for (std::uint32_t i = 0; i < slot_count_; ++i) {
        const Slot& s = slot(i);
        if (s.used && s.in_heap) {
            nodes.push_back(Node{s.deadline_ms, s.generation, i});
        }
    }
    std::make_heap(nodes.begin(), nodes.end(), NodeLater{});
    heap_ = std::move(nodes);
}

// ---- public ------------------------------------------------------------------------------

void ConnectionTracker::add(Handle handle, std::string_view client_id, std::string_view org_id,
                            std::string_view user_id, std::string_view token_id,
                            std::int64_t deadline_ms) {
    remove(handle);
    const TokenKey parsed = token_key(kNone, token_id);  // org set once interned, below
    const std::uint32_t client_len = length_of(client_id);
    const std::uint32_t user_len = length_of(user_id);
    const std::uint32_t token_len = parsed.id.is_uuid ? 0 : length_of(parsed.id.text);
    const std::size_t text_len = std::size_t{client_len} + user_len + token_len;

    // Everything that may throw (allocations) happens before the connection is linked in.
    std::unique_ptr<char[]> text;
    if (text_len > 0) {
        text.reset(new char[text_len]);
        char* out = text.get();
        for (const std::string_view part :
             {client_id, user_id, parsed.id.text.substr(0, token_len)}) {
            if (!part.empty()) {  // an empty view may have a null data()
                std::memcpy(out, part.data(), part.size());
                out += part.size();
            }
        }
    }
    const std::uint64_t handle_hash = hash_handle(handle);
    const std::uint64_t client_hash = hash_(client_id);
    by_handle_.reserve_one();
    by_token_.reserve_one();
    by_client_id_.reserve_one();
    if (heap_.size() == heap_.capacity()) {
        heap_.reserve(std::max<std::size_t>(64, 2 * heap_.capacity()));
    }
    const std::uint32_t org = intern_org(org_id);
    std::uint32_t i = kNone;
    try {
        i = allocate_slot();
    } catch (...) {
        release_org(org);
        throw;
    }
    // Nothing below allocates except the heap compaction in push(), which runs last.
    TokenKey key = parsed;
    key.org = org;
    const std::uint64_t token_hash = hash_token(key);

    Slot& s = slot(i);
    s.used = true;
    s.handle = handle;
    s.deadline_ms = deadline_ms;
    s.added_seq = next_seq_++;
    s.token_is_uuid = key.id.is_uuid;
    s.token = key.id.uuid;
    s.text = std::move(text);
    s.client_len = client_len;
    s.user_len = user_len;
    s.token_len = token_len;
    s.org = org;

    by_handle_.insert(handle_hash, i);
    const std::uint32_t token_chain = token_head(key);
    if (token_chain == kNone) {
        by_token_.insert(token_hash, i);
    }
    link_after(&Slot::by_token, token_chain, i);
    const std::uint32_t client_chain = by_client_id_.find(
        client_hash, [&](std::uint32_t j) { return client_of(slot(j)) == client_id; });
    if (client_chain == kNone) {
        by_client_id_.insert(client_hash, i);
    }
    link_after(&Slot::by_client, client_chain, i);
    link_after(&Slot::by_org, orgs_[org].head, i);
    if (orgs_[org].head == kNone) {
        orgs_[org].head = i;
    }
    ++live_;
    push(i);
}

bool ConnectionTracker::remove(Handle handle) {
    const std::uint32_t i = slot_of(handle);
    if (i == kNone) {
        return false;
    }
    Slot& s = slot(i);
    const bool token_head_i = s.by_token.prev == kNone;
    const bool client_head_i = s.by_client.prev == kNone;
    const std::uint64_t token_hash = hash_token(TokenKey{s.org, token_of(s)});
    const std::uint64_t client_hash = hash_(client_of(s));

    const std::uint32_t next_token = unlink(&Slot::by_token, i);
    if (token_head_i) {
        if (next_token == kNone) {
            by_token_.erase(token_hash, i);
        } else {
            by_token_.replace(token_hash, i, next_token);
        }
    }
    const std::uint32_t next_client = unlink(&Slot::by_client, i);
    if (client_head_i) {
        if (next_client == kNone) {
            by_client_id_.erase(client_hash, i);
        } else {
            by_client_id_.replace(client_hash, i, next_client);
        }
    }
    const bool org_head_i = s.by_org.prev == kNone;
    const std::uint32_t next_org = unlink(&Slot::by_org, i);
    if (org_head_i) {
        orgs_[s.org].head = next_org;
    }
    release_org(s.org);
    by_handle_.erase(hash_handle(handle), i);
    free_slot(i);  // its heap node turns stale
    --live_;
    maybe_compact();
    return true;
}

std::optional<ConnectionView> ConnectionTracker::find(Handle handle) const {
    const std::uint32_t i = slot_of(handle);
    if (i == kNone) {
        return std::nullopt;
    }
    const Slot& s = slot(i);
    ConnectionView v;
    v.handle = s.handle;
    v.client_id = client_of(s);
    v.org_id = orgs_[s.org].name;
    v.user_id = user_of(s);
    v.token_id = token_of(s);
    v.deadline_ms = s.deadline_ms;
    v.generation = s.generation;
    return v;
}

std::vector<Handle> ConnectionTracker::by_token(std::string_view org_id,
                                                std::string_view token_id) const {
    std::vector<Handle> out;
    const auto key = find_token_key(org_id, token_id);
    if (!key) {
        return out;
    }
    for (std::uint32_t i = token_head(*key); i != kNone; i = slot(i).by_token.next) {
        out.push_back(slot(i).handle);
    }
    return out;
}

std::vector<Handle> ConnectionTracker::by_org(std::string_view org_id) const {
    std::vector<Handle> out;
    const std::uint32_t o = find_org(org_id);
    if (o == kNone) {
        return out;
    }
    for (std::uint32_t i = orgs_[o].head; i != kNone; i = slot(i).by_org.next) {
        out.push_back(slot(i).handle);
    }
    return out;
}

bool ConnectionTracker::owns_client_id(Handle handle) const {
    const std::uint32_t i = slot_of(handle);
    if (i == kNone) {
        return false;
    }
    const std::uint64_t seq = slot(i).added_seq;
    for (std::uint32_t j = slot(i).by_client.prev; j != kNone; j = slot(j).by_client.prev) {
        if (slot(j).added_seq > seq) {
            return false;
        }
    }
    for (std::uint32_t j = slot(i).by_client.next; j != kNone; j = slot(j).by_client.next) {
        if (slot(j).added_seq > seq) {
            return false;
        }
    }
    return true;
}

std::size_t ConnectionTracker::extend(std::string_view org_id, std::string_view token_id,
                                      std::int64_t new_deadline_ms) {
    std::size_t moved = 0;
    const auto key = find_token_key(org_id, token_id);
    if (!key) {
        return moved;
    }
    for (std::uint32_t i = token_head(*key); i != kNone; i = slot(i).by_token.next) {
        Slot& s = slot(i);
        if (s.deadline_ms == new_deadline_ms && s.in_heap) {
            continue;
        }
        s.deadline_ms = new_deadline_ms;
        push(i);  // the old node turns stale (generation mismatch)
        ++moved;
    }
    return moved;
}

TrackedConnection ConnectionTracker::copy_out(std::uint32_t i) const {
    const Slot& s = slot(i);
    TrackedConnection c;
    c.handle = s.handle;
    c.client_id = std::string(client_of(s));
    c.org_id = orgs_[s.org].name;
    c.user_id = std::string(user_of(s));
    c.token_id = token_of(s).str();
    c.deadline_ms = s.deadline_ms;
    c.generation = s.generation;
    return c;
}

std::vector<TrackedConnection> ConnectionTracker::due(std::int64_t now_ms) {
    std::vector<TrackedConnection> out;
    for (;;) {
        drop_stale_top();
        if (heap_.empty() || heap_.front().deadline_ms > now_ms) {
            break;
        }
        const Node node = heap_.front();
        std::pop_heap(heap_.begin(), heap_.end(), NodeLater{});
        heap_.pop_back();
        slot(node.slot).in_heap = false;
        out.push_back(copy_out(node.slot));
    }
    return out;
}

std::optional<std::int64_t> ConnectionTracker::next_deadline_ms() {
    drop_stale_top();
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.front().deadline_ms;
}

std::vector<TokenRef> ConnectionTracker::snapshot() const {
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (std::uint32_t i = 0; i < slot_count_; ++i) {
        const Slot& s = slot(i);
        if (s.used) {
            seen.emplace(orgs_[s.org].name, token_of(s).str(), std::string(user_of(s)));
        }
    }
    std::vector<TokenRef> out;
    out.reserve(seen.size());
    for (const auto& [org, token, user] : seen) {
        out.push_back(TokenRef{org, token, user});
    }
    return out;
}

std::size_t ConnectionTracker::memory_bytes() const {
    std::size_t bytes = chunks_.size() * (sizeof(Slot) << kChunkShift) +
                        chunks_.capacity() * sizeof(chunks_[0]) + by_handle_.bytes() +
                        by_token_.bytes() + by_client_id_.bytes() + by_org_name_.bytes() +
                        heap_.capacity() * sizeof(Node) + orgs_.capacity() * sizeof(Org) +
                        free_orgs_.capacity() * sizeof(std::uint32_t);
    for (std::uint32_t i = 0; i < slot_count_; ++i) {
        const Slot& s = slot(i);
        bytes += std::size_t{s.client_len} + s.user_len + s.token_len;
    }
    for (const Org& org : orgs_) {
        bytes += org.name.capacity() > 15 ? org.name.capacity() + 1 : 0;
    }
    return bytes;
}

}  // namespace tka::plugin
