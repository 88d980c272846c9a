// The authenticated token connections of this broker and when each must be closed.
//
// Connections are keyed by an opaque handle (the broker's `struct mosquitto *` as an
// integer), never by client id: during a client-id takeover the old and the new connection
// briefly share an id, and the old one's DISCONNECT must remove only the old entry.
//
// Deadlines live in a min-heap with lazy deletion: every insert or deadline change gives
// the connection a fresh generation number and pushes a new heap node; nodes whose
// generation no longer matches their connection are skipped when they surface (and the heap
// is rebuilt when stale nodes outnumber live ones). So add, remove and extend are O(log n)
// and due(now) costs O(k log n) for k connections due. Not thread safe: broker thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tka::plugin {

using Handle = std::uintptr_t;

struct TrackedConnection {
    Handle handle = 0;
    std::string client_id;
    std::string org_id;
    std::string user_id;
    std::string token_id;
    std::int64_t deadline_ms = 0;  // unix milliseconds: close the connection at this instant
    std::uint64_t generation = 0;  // set by the tracker
};

// One token in use, as handed to the event consumer for re-validation.
struct TokenRef {
    std::string org_id;
    std::string token_id;
    std::string user_id;
};

class ConnectionTracker {
  public:
    // Tracks `conn` (replacing any entry with the same handle).
    void add(TrackedConnection conn);
    // Forgets a handle; false when it was not tracked.
    bool remove(Handle handle);
    const TrackedConnection* find(Handle handle) const;
    bool contains(Handle handle) const { return find(handle) != nullptr; }

    std::vector<Handle> by_token(std::string_view token_id) const;
    std::vector<Handle> by_org(std::string_view org_id) const;
    // True when `handle` is the most recently added connection among those tracked with its
    // client id, i.e. kicking its client id cannot hit a newer connection (takeover).
    bool owns_client_id(Handle handle) const;

    // Moves the deadline of every connection using `token_id`; returns how many moved.
    std::size_t extend(std::string_view token_id, std::int64_t new_deadline_ms);

    // Connections whose deadline is <= now_ms, earliest first. They stay tracked (the
    // caller kicks them and removes them) but are not returned again unless re-extended.
    std::vector<TrackedConnection> due(std::int64_t now_ms);
    std::optional<std::int64_t> next_deadline_ms();

    // Distinct tokens in use (for re-validation after missed events).
    std::vector<TokenRef> snapshot() const;

    std::size_t size() const { return connections_.size(); }
    std::size_t heap_size() const { return heap_.size(); }  // incl. stale nodes (tests)

  private:
    struct Node {
        std::int64_t deadline_ms;
        std::uint64_t generation;
        Handle handle;
        bool operator>(const Node& other) const {
            if (deadline_ms != other.deadline_ms) {
                return deadline_ms > other.deadline_ms;
            }
            return generation > other.generation;
        }
    };
    struct Entry {
        TrackedConnection conn;
        bool in_heap = false;  // false once returned by due()
        std::uint64_t added_seq = 0;
    };

    void push(Entry& entry);
    bool live(const Node& node) const;
    void drop_stale_top();
    void maybe_compact();
    static void erase_index(std::unordered_map<std::string, std::unordered_set<Handle>>& index,
                            const std::string& key, Handle handle);

    std::unordered_map<Handle, Entry> connections_;
    std::unordered_map<std::string, std::unordered_set<Handle>> by_token_;
    std::unordered_map<std::string, std::unordered_set<Handle>> by_org_;
    std::unordered_map<std::string, std::unordered_set<Handle>> by_client_id_;
    std::priority_queue<Node, std::vector<Node>, std::greater<>> heap_;
    std::uint64_t next_generation_ = 1;
    std::uint64_t next_seq_ = 1;
};

}  // namespace tka::plugin
