// Plugin configuration: the `plugin_opt_*` lines of mosquitto.conf turned into a
// PluginConfig, with defaults and strict validation. Mosquitto hands the options over
// without the "plugin_opt_" prefix (plugin_opt_redis_url -> key "redis_url"); keys are
// matched case-insensitively, as Mosquitto's own plugins do. Any bad value or unknown
// key throws OptionError, whose message the glue logs before refusing to start.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/redis_tls_options.hpp"
#include "common/redis_url.hpp"

namespace tka::plugin {

// Ordered from most to least severe: a message is logged when its level <= the config's.
enum class LogLevel { error = 0, warning = 1, notice = 2, info = 3, debug = 4 };

std::string_view log_level_name(LogLevel level);

inline constexpr std::string_view kDefaultRedisUrl = "redis://127.0.0.1:6379";
inline constexpr int kDefaultRedisTimeoutMs = 200;
inline constexpr int kMinRedisTimeoutMs = 1;
inline constexpr int kMaxRedisTimeoutMs = 10000;
// plugin_opt_cache_max_entries: default and accepted range (tokens in the replica). A
// safety limit, not a cache size: the replica holds every live token (about 90 bytes each);
// above the bound it stops refusing unknown passwords from memory (token_replica.hpp).
inline constexpr std::size_t kDefaultCacheEntries = 50000000;
inline constexpr std::size_t kMinCacheEntries = 1;
inline constexpr std::size_t kMaxCacheEntries = 100000000;
// Failed-auth backoff (auth_backoff.hpp): defaults and accepted ranges.
inline constexpr int kDefaultBackoffThreshold = 15;  // failure score that starts a backoff
inline constexpr int kMaxBackoffThreshold = 1000000;
inline constexpr int kDefaultBackoffFirstS = 10;                  // first backoff, seconds
inline constexpr int kDefaultBackoffMaxS = 300;                   // longest backoff, seconds
inline constexpr int kMaxBackoffSeconds = 86400;                  // bound of both
inline constexpr std::size_t kDefaultBackoffMaxTracked = 100000;  // keys per table
inline constexpr std::size_t kMaxBackoffMaxTracked = 10000000;
// Longest ACL pattern accepted (MQTT topics are at most 65535 bytes; ours are short).
inline constexpr std::size_t kMaxAclPatternLength = 1024;
// The organization's namespace: what a token client may read and write when the operator
// configures no pattern for that direction (plugin_opt_acl_default org, the default).
inline constexpr std::string_view kOrgNamespacePattern = "orgs/%o/#";
// plugin_opt_sys_interval: seconds between two $SYS publications (0: none), like the
// broker's own sys_interval, whose default it shares.
inline constexpr int kDefaultSysIntervalS = 10;
inline constexpr int kMaxSysIntervalS = 86400;

// What a direction (read or write) without plugin_opt_acl_read/_write patterns allows a
// token client: its organization's namespace only (org), or anything the broker allows
// (none: the behaviour before confinement; unsafe when organizations share a broker).
enum class AclDefault { org, none };

struct PluginConfig {
    std::string redis_url{kDefaultRedisUrl};  // as configured (may hold a password)
    RedisEndpoint redis_endpoint;             // parsed redis_url
    RedisTlsOptions redis_tls;                // redis_tls_ca/_cert/_key/_insecure (rediss:// URLs)
    std::chrono::milliseconds redis_timeout{kDefaultRedisTimeoutMs};  // connect and command
    // Topic patterns with %o / %u, for reading and for publishing. After parse_options a
    // direction the operator left without patterns holds kOrgNamespacePattern (acl_default
    // org) or stays empty (acl_default none: that direction is not restricted).
    std::vector<std::string> acl_read;
    std::vector<std::string> acl_write;
    AclDefault acl_default = AclDefault::org;
    LogLevel log_level = LogLevel::notice;
    // The local token replica (token_replica.hpp). On by default: writers wait for every
    // replica holding a lease before a refresh/revoke/replace returns (common/replica_lease.hpp),
    // so DESIGN.md's "stops working at once" holds with it too.
    bool cache = true;
    std::size_t cache_max_entries = kDefaultCacheEntries;  // replica safety limit, in tokens
    // Mosquitto >= 2.1's delayed basic auth for CONNECTs that must ask Redis (used only
    // where the broker offers it; off: those CONNECTs ask Redis on the broker thread).
    bool delayed_auth = true;
    // Seconds between two publications of the counters on $SYS/broker/token-auth/...
    // (sys_metrics.hpp); 0: never.
    std::chrono::seconds sys_interval{kDefaultSysIntervalS};
    // Failed-auth backoff per client address and username (auth_backoff.hpp).
    bool backoff = true;
    int backoff_threshold = kDefaultBackoffThreshold;  // failure score
    std::chrono::seconds backoff_first{kDefaultBackoffFirstS};
    std::chrono::seconds backoff_max{kDefaultBackoffMaxS};
    std::size_t backoff_max_tracked = kDefaultBackoffMaxTracked;  // keys per table
};

class OptionError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Checks one ACL pattern: a valid MQTT topic filter ('+' and '#' whole levels, '#' last)
// whose only '%' sequences are %o and %u. Returns an empty string when fine, else why not.
std::string check_acl_pattern(std::string_view pattern);

// The topic rules for token clients in words, for the start line: "read orgs/%o/#, write
// orgs/%o/#", with "any topic (plugin_opt_acl_default none)" for an open direction.
std::string describe_acl(const PluginConfig& config);

// Builds the configuration from (key, value) pairs in configuration-file order.
// Repeated acl_read / acl_write lines accumulate; other repeated keys: the last one wins.
// With acl_default org (the default) a direction left without patterns gets
// kOrgNamespacePattern, so token clients are confined unless the operator says otherwise.
// Throws OptionError("Invalid 'redis_timeout_ms' value 'abc' (...)") and the like.
PluginConfig parse_options(const std::vector<std::pair<std::string, std::string>>& options);

}  // namespace tka::plugin
