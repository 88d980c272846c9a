// Failed-auth backoff at the broker: which token CONNECTs may still cost a Redis lookup.
//
// Token passwords carry 256 random bits, so nobody guesses one; the threat of a flood of
// wrong passwords is cost. Every token CONNECT that the replica cannot decide is a Redis
// round trip (on Mosquitto 2.0 on the broker thread, stalling every client), so a client
// sending thousands of made-up passwords a second turns into load on Redis and a stall for
// everyone. The backoff takes that away from clients that keep failing, in the manner of
// EMQX's flapping detection and fail2ban, but without banning anyone outright.
//
// Who is counted. Two tables (common/failure_throttle.hpp), one per client address (its
// client_key: IPv4 as is, IPv6 by /64, common/ip_address.hpp) and one per MQTT username
// (only a well-formed user_id@org_id). A CONNECT counts for both: a flood spread over many
// addresses against one username is caught by the username, one from a single address
// cycling through usernames by the address.
//
// Failure. A token CONNECT refused for its credentials (unknown, expired, revoked or
// replaced token, token auth off, wrong user, malformed) adds 1 to the decaying failure
// score of its address and its username (half-life 60 s). When a score exceeds
// `threshold` (plugin_opt_backoff_threshold, default 15, like EMQX's flapping detection:
// sixteen failures in a burst, or about ten a minute kept up; a device retrying an expired
// token every ten seconds stays below it), that address or username enters backoff for `first`
// (10 s); entering again within a minute of the end of the last backoff doubles it, up to
// `max` (300 s). Refusals that say nothing about the client (Redis unreachable, the
// broker busy, refused because of backoff itself) do not count.
//
// Backoff. While the address or the username of a CONNECT is in backoff, the CONNECT is
// decided from memory alone: whatever the token replica can answer (a token it holds is
// allowed, a revoked or expired one refused) is answered as always, and a CONNECT that
// would need Redis is refused at once with the reason `backoff` (MQTT 5 on Mosquitto
// 2.1: 0x9F, connection rate exceeded). So a valid client that shares its address with
// a flood (carrier NAT) still connects whenever the replica holds its token.
//
// Success. An allowed CONNECT ends its address's and username's backoff and resets the
// doubling, but keeps their scores: a flood's next failure after the success starts a new
// backoff at once. So the valid clients behind a flooding address cost the flood one more
// Redis lookup each at most, and a real client that got a fresh token after a run of
// failures (an expired token retried) is not kept out.
//
// Memory. Each table holds at most `max_tracked` keys (plugin_opt_backoff_max_tracked,
// default 100 000), about 150 bytes each: 2 x 100 000 keys, some 30 MB, at most. Only
// failures add keys; a success or a check never does. When a table is full, keys whose
// score has decayed to nothing go first, then the least suspicious ones, so a flood of
// ever new addresses or usernames cannot grow memory, and mostly evicts its own fresh keys.
//
// Broker thread only (the throttles take a mutex anyway). Times are the unix milliseconds
// the plugin is called with, put on the throttle's time line (at()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/failure_throttle.hpp"
#include "plugin/authenticator.hpp"
#include "plugin/options.hpp"

namespace tka::plugin {

// Whether a refusal for this reason counts as a failure of the client's credentials.
bool counts_for_backoff(Refusal reason);

class AuthBackoff {
  public:
    using Clock = FailureThrottle::Clock;

    struct Options {
        bool enabled = true;
        double threshold = kDefaultBackoffThreshold;          // failure score that starts a backoff
        std::chrono::seconds first{kDefaultBackoffFirstS};    // first backoff of an episode
        std::chrono::seconds max{kDefaultBackoffMaxS};        // cap of the doubling
        std::size_t max_tracked = kDefaultBackoffMaxTracked;  // keys per table at most
    };
    static Options options_from(const PluginConfig& config);

    // The failure scores halve in this time.
    static constexpr std::chrono::seconds kHalfLife{60};

    explicit AuthBackoff(Options options);

    // Who a CONNECT is counted for: the key of its client address ("" when the broker
    // named none) and its username. The caller passes the username only when it is a
    // well-formed user_id@org_id (credentials.hpp: ours), else nullopt. Both "" when the
    // backoff is off.
    struct Subject {
        std::string address;
        std::string username;
    };
    Subject subject(std::optional<std::string_view> client_address,
                    std::optional<std::string_view> username) const;

    // Whether its address or its username is in backoff at `now`.
    bool in_backoff(const Subject& subject, Clock::time_point now) const;

    // After a refusal that counts_for_backoff(): which of the two entered backoff with it.
    struct Outcome {
        FailureThrottle::Outcome address;
        FailureThrottle::Outcome username;
    };
    Outcome failure(const Subject& subject, Clock::time_point now);

    // After an allowed CONNECT.
    void success(const Subject& subject, Clock::time_point now);

    bool enabled() const { return options_.enabled; }
    const Options& options() const { return options_; }

    // The tables, for their sizes and totals (tracked_keys(), blocks_total(), ...).
    const FailureThrottle& addresses() const { return addresses_; }
    const FailureThrottle& usernames() const { return usernames_; }

    // A time in unix milliseconds on the throttles' time line.
    static Clock::time_point at(std::int64_t unix_ms) {
        return Clock::time_point(std::chrono::milliseconds(unix_ms));
    }

  private:
    Options options_;
    FailureThrottle addresses_;
    FailureThrottle usernames_;
};

// `text` for a log line: its first 64 bytes ("..." after them when longer), anything but
// printable ASCII as '?'. A client
// address can be whatever the client sent (X-Forwarded-For on a websockets listener).
std::string printable(std::string_view text);

}  // namespace tka::plugin
