// Reads the brokers' registry for the dashboard (see replica_registry.hpp): one pipelined
// round trip for the registrations, their applied ids, Redis's clock and the stream's
// first and last ids, then one more for the lag counts (XRANGE after each distinct
// applied id, at most kLagCountLimit entries each). Ids are compared as (ms, seq) pairs,
// never as strings.
#include "common/replica_registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <utility>

#include "common/redis_keys.hpp"
#include "common/replica_lease.hpp"

namespace tka {

namespace {

using StreamId = std::pair<std::uint64_t, std::uint64_t>;  // (ms, seq)

std::optional<StreamId> parse_id(const std::string& id) {
    const std::size_t dash = id.find('-');
    if (dash == std::string::npos) {
        return std::nullopt;
    }
    StreamId out;
    const char* end = id.data() + id.size();
    const auto r1 = std::from_chars(id.data(), id.data() + dash, out.first);
    const auto r2 = std::from_chars(id.data() + dash + 1, end, out.second);
    if (r1.ec != std::errc() || r1.ptr != id.data() + dash || r2.ec != std::errc() ||
        r2.ptr != end) {
        return std::nullopt;
    }
    return out;
}

// The id of a one-entry XRANGE / XREVRANGE reply, "" when the stream is empty.
std::string first_entry_id(const RedisValue& reply) {
    if (!reply.is_array() || reply.elements.empty() || !reply.elements[0].is_array() ||
        reply.elements[0].elements.empty()) {
        return {};
    }
    return reply.elements[0].elements[0].str;
}

// The smallest id after `id` (XRANGE start, inclusive): works on every Redis version,
// unlike the exclusive "(" range of 6.2.
std::string next_id(const StreamId& id) {
    if (id.second == UINT64_MAX) {
        return std::to_string(id.first + 1) + "-0";
    }
    return std::to_string(id.first) + "-" + std::to_string(id.second + 1);
}

std::int64_t score_ms(const std::string& score) {
    try {
        return std::llround(std::stod(score));
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

ReplicaRegistry read_replica_registry(RedisConnection& redis) {
    const std::vector<RedisValue> replies = redis.pipeline({
        {"ZRANGE", keys::replicas(), "0", "-1", "WITHSCORES"},
        {"HGETALL", keys::replicas_applied()},
        {"TIME"},
        {"XREVRANGE", keys::events(), "+", "-", "COUNT", "1"},
        {"XRANGE", keys::events(), "-", "+", "COUNT", "1"},
    });
    if (replies.size() != 5) {
        throw RedisError("replica registry: unexpected reply");
    }
    for (const RedisValue& r : replies) {
        r.expect_ok("replica registry");
    }
    const RedisValue& members = replies[0];
    const RedisValue& applied = replies[1];
    const RedisValue& time = replies[2];
    if (!members.is_array() || !applied.is_array() || !time.is_array() ||
        time.elements.size() != 2) {
        throw RedisError("replica registry: unexpected reply");
    }

    ReplicaRegistry registry;
    registry.server_now_ms =
        std::stoll(time.elements[0].str) * 1000 + std::stoll(time.elements[1].str) / 1000;
    registry.stream_last_id = first_entry_id(replies[3]);
    const std::optional<StreamId> last = parse_id(registry.stream_last_id);
    const std::optional<StreamId> first = parse_id(first_entry_id(replies[4]));

    std::map<std::string, std::string> applied_of;
    for (std::size_t i = 0; i + 1 < applied.elements.size(); i += 2) {
        applied_of[applied.elements[i].str] = applied.elements[i + 1].str;
    }

    for (std::size_t i = 0; i + 1 < members.elements.size(); i += 2) {
        ReplicaStatus r;
        r.replica_id = members.elements[i].str;
        r.heartbeat_ms = score_ms(members.elements[i + 1].str);
        r.heartbeat_age_ms = std::max<std::int64_t>(0, registry.server_now_ms - r.heartbeat_ms);
        r.fresh = r.heartbeat_age_ms < kReplicaStaleAfter.count();
        const auto it = applied_of.find(r.replica_id);
        if (it != applied_of.end()) {
            r.applied_id = it->second;
        }
        registry.replicas.push_back(std::move(r));
    }
    std::stable_sort(registry.replicas.begin(), registry.replicas.end(),
                     [](const ReplicaStatus& a, const ReplicaStatus& b) {
                         return a.heartbeat_ms > b.heartbeat_ms;
                     });

    // Lag: entries after each distinct applied id still in the stream, in one round trip.
    std::vector<std::string> to_count;
    std::map<std::string, std::int64_t> lag_of;
    for (ReplicaStatus& r : registry.replicas) {
        const std::optional<StreamId> id = parse_id(r.applied_id);
        if (!id) {
            continue;
        }
        if (last) {
            r.lag_ms =
                static_cast<std::int64_t>(last->first > id->first ? last->first - id->first : 0);
        }
        if (!last || *id >= *last) {
            lag_of[r.applied_id] = 0;
        } else if (first && *id >= *first) {
            if (lag_of.emplace(r.applied_id, -1).second) {
                to_count.push_back(r.applied_id);
            }
        }
        // else: older than the first entry kept (trimmed since): unknown.
    }
    if (!to_count.empty()) {
        std::vector<std::vector<std::string>> commands;
        for (const std::string& id : to_count) {
            commands.push_back({"XRANGE", keys::events(), next_id(*parse_id(id)),
                                registry.stream_last_id, "COUNT", std::to_string(kLagCountLimit)});
        }
        const std::vector<RedisValue> counts = redis.pipeline(commands);
        for (std::size_t i = 0; i < to_count.size() && i < counts.size(); ++i) {
            counts[i].expect_ok("replica registry: XRANGE");
            lag_of[to_count[i]] = static_cast<std::int64_t>(counts[i].elements.size());
        }
    }
    for (ReplicaStatus& r : registry.replicas) {
        const auto it = lag_of.find(r.applied_id);
        if (it != lag_of.end() && it->second >= 0) {
            r.lag_events = it->second;
        }
    }
    return registry;
}

}  // namespace tka
