// The plugin's counters as $SYS messages: which topics exist, what each carries, and when
// the next publication is due (plugin_opt_sys_interval). plugin.cpp only hands the messages
// to mosquitto_broker_publish_copy from the TICK, so everything an operator sees under
// $SYS/broker/token-auth/ is decided here, without a broker, and unit-tested.
//
// The topics are listed in one table in sys_metrics.cpp (kTopics): adding a counter of
// PluginCounters is one line there. Counters kept by reason (refusals, kicks) add one
// topic per reason seen so far under their family (kFamilies). Payloads are decimal
// integers, published retained at QoS 0 like the broker's own $SYS topics.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/token_auth_plugin.hpp"
#include "plugin/token_replica.hpp"

namespace tka::plugin {

inline constexpr std::string_view kSysTopicPrefix = "$SYS/broker/token-auth/";

// What one publication reports.
struct SysSnapshot {
    PluginCounters counters;
    std::optional<ReplicaStats> replica;  // nullopt: plugin_opt_cache off
    std::size_t connections = 0;          // token connections tracked now
};

struct SysMessage {
    std::string topic;    // full topic, kSysTopicPrefix included
    std::string payload;  // decimal
};

// Every topic of one publication, in table order, then the per-reason families.
std::vector<SysMessage> sys_messages(const SysSnapshot& snapshot);

// The topic names of kTopics (without the prefix), for documentation checks and tests.
std::vector<std::string_view> sys_topic_names();

// When to publish: at the first TICK, then once `interval` has passed since the previous
// publication (a late TICK delays it, never doubles it). An interval of 0 never publishes.
class SysSchedule {
  public:
    explicit SysSchedule(std::chrono::seconds interval) : interval_(interval) {}

    bool enabled() const { return interval_.count() > 0; }
    // True when a publication is due at `now_ms` (any monotonic or wall clock, in ms);
    // the caller then publishes, and the next one is due an interval later.
    bool due(std::int64_t now_ms);

  private:
    std::chrono::seconds interval_;
    std::optional<std::int64_t> next_ms_;
};

}  // namespace tka::plugin
