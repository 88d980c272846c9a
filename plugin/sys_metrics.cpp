// $SYS topics of the plugin (see sys_metrics.hpp). The table below is the list of topics.
#include "plugin/sys_metrics.hpp"

namespace tka::plugin {

namespace {

using Value = std::optional<std::uint64_t> (*)(const SysSnapshot&);

// A PluginCounters field as a topic value.
template <std::uint64_t PluginCounters::*Field>
std::optional<std::uint64_t> counter(const SysSnapshot& s) {
    return s.counters.*Field;
}

std::optional<std::uint64_t> replica_fallbacks(const SysSnapshot& s) {
    return s.counters.replica_fallbacks();
}

std::optional<std::uint64_t> replica_tokens(const SysSnapshot& s) {
    if (!s.replica) {
        return std::nullopt;
    }
    return s.replica->entries;
}

std::optional<std::uint64_t> replica_trusted(const SysSnapshot& s) {
    if (!s.replica) {
        return std::nullopt;
    }
    return s.replica->trusted ? 1 : 0;
}

std::optional<std::uint64_t> replica_complete(const SysSnapshot& s) {
    if (!s.replica) {
        return std::nullopt;
    }
    return s.replica->complete ? 1 : 0;
}

std::optional<std::uint64_t> replica_bytes(const SysSnapshot& s) {
    if (!s.replica) {
        return std::nullopt;
    }
    return s.replica->bytes;
}

std::optional<std::uint64_t> connections(const SysSnapshot& s) {
    return s.connections;
}

struct Topic {
    std::string_view name;  // below kSysTopicPrefix
    Value value;            // nullopt: not published (e.g. replica topics with the cache off)
};

// Every topic with one value. One line per topic.
constexpr Topic kTopics[] = {
    {"connects/accepted", counter<&PluginCounters::auth_allowed>},
    {"connects/refused", counter<&PluginCounters::auth_denied>},
    {"connects/deferred", counter<&PluginCounters::auth_deferred>},
    {"connects/delayed", counter<&PluginCounters::auth_delayed>},
    {"replica/hits", counter<&PluginCounters::replica_hits>},
    {"replica/misses", counter<&PluginCounters::replica_misses>},
    {"replica/untrusted", counter<&PluginCounters::replica_untrusted>},
    {"replica/fallbacks", replica_fallbacks},
    {"replica/tokens", replica_tokens},
    {"replica/trusted", replica_trusted},
    {"replica/complete", replica_complete},
    {"replica/bytes", replica_bytes},
    {"redis/failures", counter<&PluginCounters::auth_redis_failures>},
    {"kicks", counter<&PluginCounters::kicks>},
    {"backoff/refusals", counter<&PluginCounters::backoff_refusals>},
    {"backoff/entries", counter<&PluginCounters::backoff_entries>},
    {"connections", connections},
};

struct Family {
    std::string_view name;  // below kSysTopicPrefix; one topic per reason below it
    CountsByReason PluginCounters::*counts;
};

// Counters kept by reason: "<family>/<reason>" for every reason seen since the start.
constexpr Family kFamilies[] = {
    {"connects/refused/", &PluginCounters::refused_by_reason},
    {"kicks/", &PluginCounters::kicks_by_reason},
};

SysMessage message(std::string_view name, std::uint64_t value) {
    SysMessage m;
    m.topic.reserve(kSysTopicPrefix.size() + name.size());
    m.topic.append(kSysTopicPrefix);
    m.topic.append(name);
    m.payload = std::to_string(value);
    return m;
}

}  // namespace

std::vector<SysMessage> sys_messages(const SysSnapshot& snapshot) {
    std::vector<SysMessage> out;
    for (const Topic& topic : kTopics) {
        if (const auto value = topic.value(snapshot)) {
            out.push_back(message(topic.name, *value));
        }
    }
    for (const Family& family : kFamilies) {
        for (const Refusal reason : kAllRefusals) {
            const std::uint64_t count = (snapshot.counters.*family.counts)[reason];
            if (count == 0) {
                continue;  // only reasons seen since the start
            }
            std::string name(family.name);
            name.append(refusal_name(reason));
            out.push_back(message(name, count));
        }
    }
    return out;
}

std::vector<std::string_view> sys_topic_names() {
    std::vector<std::string_view> out;
    for (const Topic& topic : kTopics) {
        out.push_back(topic.name);
    }
    return out;
}

bool SysSchedule::due(std::int64_t now_ms) {
    if (!enabled()) {
        return false;
    }
    if (next_ms_ && now_ms < *next_ms_) {
        return false;
    }
    next_ms_ = now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(interval_).count();
    return true;
}

}  // namespace tka::plugin
