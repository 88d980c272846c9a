// The authenticated token connections of this broker and when each must be closed.
//
// Connections are keyed by an opaque handle (the broker's `struct mosquitto *` as an
// integer), never by client id: during a client-id takeover the old and the new connection
// briefly share an id, and the old one's DISCONNECT must remove only the old entry.
//
// Storage (docs/plugin.md, "Connection tracker"): one fixed-size slot per connection in
// chunks of 256 (no node-based maps, no reallocation), holding the handle, deadline,
// generation, the token id as 16 bytes when it is a canonical lowercase UUID, an interned
// org number, and one heap block with the client id, the user id (and the token id if it is
// not a UUID). Connections sharing a token, a client id or an org are chained through the
// slots (doubly linked); flat hash indexes (slot_index.hpp) map handle, token and client id
// to a slot, comparing the full key in the slot, so hash collisions never mix two keys.
//
// A token id is unique only within its organization, so a token is always named by
// (org id, token id): its chain holds that org's connections only, and by_token() and
// extend() of one org never see another org's connection with the same token id.
//
// Deadlines live in a min-heap with lazy deletion: every insert or deadline change gives
// the connection a fresh generation number and pushes a new heap node; nodes whose
// generation no longer matches their connection are skipped when they surface (and the heap
// is rebuilt when stale nodes outnumber live ones). So add, remove and extend are O(log n)
// and due(now) costs O(k log n) for k connections due. Not thread safe: broker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/slot_index.hpp"
#include "plugin/uuid_bytes.hpp"

namespace tka::plugin {

using Handle = std::uintptr_t;

// A connection to track (add) or one whose deadline passed (due): owning copies.
struct TrackedConnection {
    Handle handle = 0;
    std::string client_id;
    std::string org_id;
    std::string user_id;
    std::string token_id;
    std::int64_t deadline_ms = 0;  // unix milliseconds: close the connection at this instant
    std::uint64_t generation = 0;  // set by the tracker
};

// A token id as the tracker holds it: 16 bytes, or the text when it is not a canonical
// lowercase UUID. Borrowed like ConnectionView.
struct TokenIdView {
    bool is_uuid = false;
    UuidBytes uuid{};       // the id when is_uuid
    std::string_view text;  // the id otherwise
    std::string str() const { return is_uuid ? format_lowercase_uuid(uuid) : std::string(text); }
    bool operator==(std::string_view other) const;
};

// One tracked connection, borrowed from the tracker: the views stay valid until the tracker
// is next modified (add, remove, extend, due).
struct ConnectionView {
    Handle handle = 0;
    std::string_view client_id;
    std::string_view org_id;
    std::string_view user_id;
    TokenIdView token_id;
    std::int64_t deadline_ms = 0;
    std::uint64_t generation = 0;
};

// One token in use, as handed to the event consumer for re-validation.
struct TokenRef {
    std::string org_id;
    std::string token_id;
    std::string user_id;
};

class ConnectionTracker {
  public:
    // Hash of the bytes of a key (token id, client id, handle). Replaceable so tests can
    // force collisions; the default is std::hash<std::string_view>.
    using KeyHash = std::uint64_t (*)(std::string_view bytes);
    static std::uint64_t default_hash(std::string_view bytes);

    explicit ConnectionTracker(KeyHash hash = &default_hash);
    ~ConnectionTracker();
    ConnectionTracker(const ConnectionTracker&) = delete;
    ConnectionTracker& operator=(const ConnectionTracker&) = delete;

    // Tracks a connection (replacing any entry with the same handle); copies the strings.
    void add(Handle handle, std::string_view client_id, std::string_view org_id,
             std::string_view user_id, std::string_view token_id, std::int64_t deadline_ms);
    void add(const TrackedConnection& conn) {
        add(conn.handle, conn.client_id, conn.org_id, conn.user_id, conn.token_id,
            conn.deadline_ms);
    }
    // Forgets a handle; false when it was not tracked.
    bool remove(Handle handle);
    std::optional<ConnectionView> find(Handle handle) const;
    bool contains(Handle handle) const { return slot_of(handle) != SlotIndex::kNone; }

    // Connections using `token_id` of `org_id`.
    std::vector<Handle> by_token(std::string_view org_id, std::string_view token_id) const;
    std::vector<Handle> by_org(std::string_view org_id) const;
    // True when `handle` is the most recently added connection among those tracked with its
    // client id, i.e. kicking its client id cannot hit a newer connection (takeover).
    bool owns_client_id(Handle handle) const;

    // Moves the deadline of every connection using `token_id` of `org_id`; returns how many
    // moved.
    std::size_t extend(std::string_view org_id, std::string_view token_id,
                       std::int64_t new_deadline_ms);

    // Connections whose deadline is <= now_ms, earliest first. They stay tracked (the
    // caller kicks them and removes them) but are not returned again unless re-extended.
    std::vector<TrackedConnection> due(std::int64_t now_ms);
    std::optional<std::int64_t> next_deadline_ms();

    // Distinct tokens in use (for re-validation after missed events).
    std::vector<TokenRef> snapshot() const;

    std::size_t size() const { return live_; }
    std::size_t heap_size() const { return heap_.size(); }  // incl. stale nodes (tests)
    // Bytes the tracker holds (slots, text blocks, indexes, heap, orgs), for tests and docs.
    std::size_t memory_bytes() const;
    static constexpr std::size_t slot_size();

  private:
    static constexpr std::uint32_t kNone = SlotIndex::kNone;
    static constexpr std::size_t kChunkShift = 8;  // 256 slots per chunk

    struct Links {
        std::uint32_t prev = kNone;
        std::uint32_t next = kNone;
    };
    struct Slot {
        Handle handle = 0;
        std::int64_t deadline_ms = 0;
        std::uint64_t generation = 0;
        std::uint64_t added_seq = 0;
        UuidBytes token{};             // the token id when token_is_uuid
        std::unique_ptr<char[]> text;  // client id, user id, then the token id if not a UUID
        std::uint32_t client_len = 0;
        std::uint32_t user_len = 0;
        std::uint32_t token_len = 0;  // of the text form (0 when token_is_uuid)
        std::uint32_t org = 0;        // index into orgs_
        Links by_token;               // chain of the connections of one token
        Links by_client;              // ... of one client id
        Links by_org;                 // ... of one org (also: the free list, `next`)
        bool used = false;            // false: on the free list
        bool token_is_uuid = false;
        bool in_heap = false;  // false once returned by due()
    };
    struct Node {
        std::int64_t deadline_ms;
        std::uint64_t generation;
        std::uint32_t slot;
    };
    struct NodeLater {
        bool operator()(const Node& a, const Node& b) const {
            if (a.deadline_ms != b.deadline_ms) {
                return a.deadline_ms > b.deadline_ms;
            }
            return a.generation > b.generation;
        }
    };
    struct Org {
        std::string name;
        std::uint32_t refs = 0;
        std::uint32_t head = kNone;
    };
    // A token as looked up: its org's number and the id in its stored form.
    struct TokenKey {
        std::uint32_t org = kNone;
        TokenIdView id;
    };

    Slot& slot(std::uint32_t i) { return chunks_[i >> kChunkShift][i & kChunkMask]; }
    const Slot& slot(std::uint32_t i) const { return chunks_[i >> kChunkShift][i & kChunkMask]; }
    static constexpr std::uint32_t kChunkMask = (1U << kChunkShift) - 1;

    std::uint32_t slot_of(Handle handle) const;
    std::uint32_t allocate_slot();
    void free_slot(std::uint32_t i);

    static TokenKey token_key(std::uint32_t org, std::string_view token_id);
    // The key of `token_id` of `org_id`; nullopt when no connection of that org is tracked.
    std::optional<TokenKey> find_token_key(std::string_view org_id,
                                           std::string_view token_id) const;
    static bool same_token(const Slot& s, const TokenKey& key);
    static std::string_view client_of(const Slot& s);
    static std::string_view user_of(const Slot& s);
    static TokenIdView token_of(const Slot& s);
    std::uint64_t hash_token(const TokenKey& key) const;
    std::uint64_t hash_handle(Handle handle) const;
    std::uint32_t token_head(const TokenKey& key) const;  // kNone when untracked

    // Chains: link `i` behind `head` (kNone: `i` starts the chain) / unlink it, returning
    // the chain's new head when `i` was the head.
    void link_after(Links Slot::*member, std::uint32_t head, std::uint32_t i);
    std::uint32_t unlink(Links Slot::*member, std::uint32_t i);

    std::uint32_t intern_org(std::string_view org_id);
    void release_org(std::uint32_t org);
    std::uint32_t find_org(std::string_view org_id) const;  // kNone when unknown

    TrackedConnection copy_out(std::uint32_t i) const;
    void push(std::uint32_t i);
    bool live(const Node& node) const;
    void drop_stale_top();
    void maybe_compact();

    KeyHash hash_;
    std::vector<std::unique_ptr<Slot[]>> chunks_;
    std::uint32_t slot_count_ = 0;  // slots handed out so far (live or free)
    std::uint32_t free_head_ = kNone;
    std::size_t live_ = 0;
    SlotIndex by_handle_;
    SlotIndex by_token_;      // to the head of each token's chain
    SlotIndex by_client_id_;  // to the head of each client id's chain
    std::vector<Org> orgs_;
    SlotIndex by_org_name_;  // to an index into orgs_
    std::vector<std::uint32_t> free_orgs_;
    std::vector<Node> heap_;  // std::push_heap / pop_heap with NodeLater: earliest on top
    std::uint64_t next_generation_ = 1;
    std::uint64_t next_seq_ = 1;
};

constexpr std::size_t ConnectionTracker::slot_size() {
    return sizeof(Slot);
}

}  // namespace tka::plugin
