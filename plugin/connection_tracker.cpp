// Deadline tracking of token connections (see connection_tracker.hpp).
#include "plugin/connection_tracker.hpp"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

namespace tka::plugin {

void ConnectionTracker::erase_index(
    std::unordered_map<std::string, std::unordered_set<Handle>>& index, const std::string& key,
    Handle handle) {
    auto it = index.find(key);
    if (it == index.end()) {
        return;
    }
    it->second.erase(handle);
    if (it->second.empty()) {
        index.erase(it);
    }
}

void ConnectionTracker::push(Entry& entry) {
    entry.conn.generation = next_generation_++;
    entry.in_heap = true;
    heap_.push(Node{entry.conn.deadline_ms, entry.conn.generation, entry.conn.handle});
    maybe_compact();
}

bool ConnectionTracker::live(const Node& node) const {
    auto it = connections_.find(node.handle);
    return it != connections_.end() && it->second.in_heap &&
           it->second.conn.generation == node.generation;
}

void ConnectionTracker::drop_stale_top() {
    while (!heap_.empty() && !live(heap_.top())) {
        heap_.pop();
    }
}

void ConnectionTracker::maybe_compact() {
    // Stale nodes come from removals and extensions; rebuild once they dominate.
    if (heap_.size() <= 64 || heap_.size() <= 2 * connections_.size()) {
        return;
    }
    std::vector<Node> nodes;
    nodes.reserve(connections_.size());
    for (const auto& [handle, entry] : connections_) {
        if (entry.in_heap) {
            nodes.push_back(Node{entry.conn.deadline_ms, entry.conn.generation, handle});
        }
    }
    heap_ = decltype(heap_)(std::greater<>(), std::move(nodes));
}

void ConnectionTracker::add(TrackedConnection conn) {
    remove(conn.handle);
    const Handle handle = conn.handle;
    by_token_[conn.token_id].insert(handle);
    by_org_[conn.org_id].insert(handle);
    by_client_id_[conn.client_id].insert(handle);
    Entry& entry = connections_[handle];
    entry.conn = std::move(conn);
    entry.added_seq = next_seq_++;
    push(entry);
}

bool ConnectionTracker::remove(Handle handle) {
    auto it = connections_.find(handle);
    if (it == connections_.end()) {
        return false;
    }
    const TrackedConnection& conn = it->second.conn;
    erase_index(by_token_, conn.token_id, handle);
    erase_index(by_org_, conn.org_id, handle);
    erase_index(by_client_id_, conn.client_id, handle);
    connections_.erase(it);  // its heap node turns stale
    maybe_compact();
    return true;
}

const TrackedConnection* ConnectionTracker::find(Handle handle) const {
    auto it = connections_.find(handle);
    return it == connections_.end() ? nullptr : &it->second.conn;
}

std::vector<Handle> ConnectionTracker::by_token(std::string_view token_id) const {
    auto it = by_token_.find(std::string(token_id));
    if (it == by_token_.end()) {
        return {};
    }
    return {it->second.begin(), it->second.end()};
}

std::vector<Handle> ConnectionTracker::by_org(std::string_view org_id) const {
    auto it = by_org_.find(std::string(org_id));
    if (it == by_org_.end()) {
        return {};
    }
    return {it->second.begin(), it->second.end()};
}

bool ConnectionTracker::owns_client_id(Handle handle) const {
    auto it = connections_.find(handle);
    if (it == connections_.end()) {
        return false;
    }
    auto peers = by_client_id_.find(it->second.conn.client_id);
    if (peers == by_client_id_.end()) {
        return true;
    }
    for (Handle other : peers->second) {
        if (other == handle) {
            continue;
        }
        auto o = connections_.find(other);
        if (o != connections_.end() && o->second.added_seq > it->second.added_seq) {
            return false;
        }
    }
    return true;
}

std::size_t ConnectionTracker::extend(std::string_view token_id, std::int64_t new_deadline_ms) {
    std::size_t moved = 0;
    for (Handle handle : by_token(token_id)) {
        Entry& entry = connections_.at(handle);
        if (entry.conn.deadline_ms == new_deadline_ms && entry.in_heap) {
            continue;
        }
        entry.conn.deadline_ms = new_deadline_ms;
        push(entry);  // the old node turns stale (generation mismatch)
        ++moved;
    }
    return moved;
}

std::vector<TrackedConnection> ConnectionTracker::due(std::int64_t now_ms) {
    std::vector<TrackedConnection> out;
    for (;;) {
        drop_stale_top();
        if (heap_.empty() || heap_.top().deadline_ms > now_ms) {
            break;
        }
        const Node node = heap_.top();
        heap_.pop();
        Entry& entry = connections_.at(node.handle);
        entry.in_heap = false;
        out.push_back(entry.conn);
    }
    return out;
}

std::optional<std::int64_t> ConnectionTracker::next_deadline_ms() {
    drop_stale_top();
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.top().deadline_ms;
}

std::vector<TokenRef> ConnectionTracker::snapshot() const {
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const auto& [handle, entry] : connections_) {
        seen.emplace(entry.conn.org_id, entry.conn.token_id, entry.conn.user_id);
    }
    std::vector<TokenRef> out;
    out.reserve(seen.size());
    for (const auto& [org, token, user] : seen) {
        out.push_back(TokenRef{org, token, user});
    }
    return out;
}

}  // namespace tka::plugin
