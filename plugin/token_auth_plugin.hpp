// The plugin's whole state and behaviour, without Mosquitto: one object per loaded plugin
// (configuration, authenticator, connection tracker, ACL matcher, event consumer,
// counters), whose on_* methods take plain values and return decisions. plugin.cpp maps
// broker events onto them and decisions onto MOSQ_ERR_* codes; tests call them directly.
//
// Closing connections: on_tick() gathers every connection to close -- deadline passed,
// token revoked or replaced, org token auth switched off (from the event stream), or found
// dead by re-validation -- and returns the list; carry_out() kicks them afterwards, because
// a kick fires MOSQ_EVT_DISCONNECT synchronously and re-enters on_disconnect(). A kick names
// the connection by the client id it was tracked with, never through its handle: the
// handle is only the tracker's key (the broker may have freed that connection already).
// An event or verdict names a token by (org id, token id); a token id is unique only
// within its organization.
// Ticks: a token CONNECT is refused until the broker has sent a first MOSQ_EVT_TICK.
// Every broker that delivers ticks sends one before it reads the first CONNECT (its loop
// ticks between accepting a socket and reading from it); Mosquitto 2.0.11-2.0.14 with
// `per_listener_settings true` never does, and there expiry and revocation could not be
// enforced at all, so the plugin refuses token clients with one error line saying why,
// instead of admitting connections it can never close.
//
// Delayed basic auth (Mosquitto >= 2.1, use_delayed_auth()): a CONNECT the memory cannot
// decide is handed to the LookupWorker and answered `delayed`; take_completions() (from the
// TICK) hands back the answers for the glue to pass to mosquitto_complete_basic_auth, and
// on_connect() (MOSQ_EVT_CONNECT, fired inside that call on success) starts tracking the
// connection. Outstanding lookups are keyed by client id: the broker keeps at most one
// delayed CONNECT per client id, and any later BASIC_AUTH for that id supersedes an older
// lookup (whose answer is then dropped), so an answer can never complete another CONNECT.
//
// Broker thread only, except the event consumer's and the lookup worker's own threads.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/refusal.hpp"
#include "plugin/acl_matcher.hpp"
#include "plugin/auth_backoff.hpp"
#include "plugin/authenticator.hpp"
#include "plugin/connection_tracker.hpp"
#include "plugin/event_consumer.hpp"
#include "plugin/logger.hpp"
#include "plugin/lookup_worker.hpp"
#include "plugin/options.hpp"
#include "plugin/token_replica.hpp"

namespace tka::plugin {

// One connection to close.
struct Kick {
    Handle handle = 0;      // the tracker's key (never dereferenced): forget it afterwards
    std::string client_id;  // the broker's client id of the connection, taken at CONNECT
    std::string token_id;
    // expired, revoked, replaced, token_auth_off, unknown_token, unknown_org
    Refusal reason = Refusal::expired;
    // False when a newer tracked connection shares the client id (takeover in progress):
    // kicking by client id would hit the newer one, so the caller only forgets this entry.
    bool by_client_id = true;
};

// Closes one client by its client id: the glue passes mosquitto_kick_client_by_clientid.
// May re-enter TokenAuthPlugin::on_disconnect() before it returns.
using KickClient = std::function<void(const std::string& client_id)>;

// A delayed CONNECT whose answer is back: the glue completes it.
struct Completion {
    std::string client_id;
    bool allowed = false;
    Refusal reason = Refusal::unknown_token;  // when !allowed
};

// Counts per refusal reason, indexed by the enum's value: the $SYS topics
// (sys_metrics.hpp) list every reason seen.
struct CountsByReason {
    std::array<std::uint64_t, kRefusalCount> counts{};
    void add(Refusal reason) { ++counts[static_cast<std::size_t>(reason)]; }
    std::uint64_t operator[](Refusal reason) const {
        return counts[static_cast<std::size_t>(reason)];
    }
};

struct PluginCounters {
    std::uint64_t auth_allowed = 0;
    std::uint64_t auth_denied = 0;
    std::uint64_t auth_deferred = 0;
    std::uint64_t auth_redis_failures = 0;  // denials because Redis could not be asked
    std::uint64_t kicks = 0;                // connections handed out to be closed
    std::uint64_t events_applied = 0;       // stream events that touched a connection
    std::uint64_t verdicts_applied = 0;     // re-validation answers processed
    std::uint64_t ticks = 0;
    std::uint64_t auth_delayed = 0;  // CONNECTs handed to the lookup worker (Mosquitto 2.1)
    // Token replica (plugin_opt_cache on): token CONNECTs answered from memory, and those
    // that fell back to Redis because the replica did not know the credential (miss) or
    // was not caught up (untrusted).
    std::uint64_t replica_hits = 0;
    std::uint64_t replica_misses = 0;
    std::uint64_t replica_untrusted = 0;
    std::uint64_t replica_fallbacks() const { return replica_misses + replica_untrusted; }
    CountsByReason refused_by_reason;  // auth_denied by reason
    CountsByReason kicks_by_reason;    // kicks by Kick::reason
    // Failed-auth backoff (auth_backoff.hpp): token CONNECTs refused because their address
    // or username was in backoff and memory could not decide them (reason `backoff`, no
    // Redis lookup), and how often an address or a username entered backoff.
    std::uint64_t backoff_refusals = 0;
    std::uint64_t backoff_entries = 0;
};

struct PluginRuntimeOptions {
    bool start_consumer = true;
    std::chrono::milliseconds consumer_block{1000};  // XREAD BLOCK
    // Passed to EventConsumerOptions::replica_applied (measurements).
    std::function<void(const Event&)> replica_applied;
};

class TokenAuthPlugin {
  public:
    TokenAuthPlugin(PluginConfig config, LogSink sink, PluginRuntimeOptions runtime = {});
    ~TokenAuthPlugin();
    TokenAuthPlugin(const TokenAuthPlugin&) = delete;
    TokenAuthPlugin& operator=(const TokenAuthPlugin&) = delete;

    // Probes Redis (logs if unreachable, never fails) and starts the event consumer.
    void start();
    // Stops the event consumer (joins its thread).
    void stop();

    // Before start(): answer CONNECTs that need Redis `delayed` (the broker offers delayed
    // basic auth, Mosquitto >= 2.1) and look them up on a worker thread.
    void use_delayed_auth();
    bool delayed_auth() const { return worker_ != nullptr; }

    // nullopt for absent client id / username / password. now_ms: unix milliseconds.
    // client_address: mosquitto_client_address(), for the failed-auth backoff.
    AuthDecision on_basic_auth(Handle handle, std::optional<std::string_view> client_id,
                               std::optional<std::string_view> username,
                               std::optional<std::string_view> password, std::int64_t now_ms,
                               std::optional<std::string_view> client_address = std::nullopt);
    AclResult on_acl_check(Handle handle, std::string_view topic, Access access) const;
    std::vector<Kick> on_tick(std::int64_t now_ms);
    // Carries out on_tick()'s kicks: skips connections already gone (an earlier kick, a
    // takeover), logs and kicks by client id those that own their client id, and forgets
    // every one of them (kicked()).
    void carry_out(const std::vector<Kick>& kicks, const KickClient& kick_client);
    void on_disconnect(Handle handle);
    // MOSQ_EVT_CONNECT (Mosquitto >= 2.1): a delayed CONNECT that was allowed is now live.
    void on_connect(Handle handle, std::string_view client_id);

    // Delayed CONNECTs whose answer is back (broker thread, in the TICK). For each, the glue
    // calls mosquitto_complete_basic_auth and then completed(client_id).
    std::vector<Completion> take_completions();
    void completed(std::string_view client_id);
    // How soon the broker should tick again (Mosquitto >= 2.1 sleeps until asked), in ms:
    // soon while delayed CONNECTs wait, else often enough to close connections on time.
    int next_tick_ms() const;

    // After carrying out (or skipping) a Kick: forget the connection.
    void kicked(Handle handle);
    bool tracked(Handle handle) const { return tracker_.contains(handle); }
    bool acl_active() const { return acl_.active(); }

    // Applies one consumer item, appending connections to close to `kicks`.
    void apply(const ConsumerItem& item, std::vector<Kick>& kicks);

    const PluginConfig& config() const { return config_; }
    const PluginCounters& counters() const { return counters_; }
    const ConnectionTracker& tracker() const { return tracker_; }
    EventConsumer& consumer() { return *consumer_; }
    // Null when plugin_opt_cache is off.
    const TokenReplica* replica() const { return replica_.get(); }
    const Logger& logger() const { return logger_; }
    const AuthBackoff& backoff() const { return backoff_; }

  private:
    // Counters and the log line for a final decision.
    void note(const AuthDecision& decision, std::optional<std::string_view> client_id,
              std::optional<std::string_view> username);
    void track(Handle handle, std::string_view client_id, const AuthDecision& decision);
    AuthDecision refuse_without_ticks();
    // The failed-auth backoff's bookkeeping for a final decision (auth_backoff.hpp).
    void settle_backoff(const AuthDecision& decision, const AuthBackoff::Subject& subject,
                        std::int64_t now_ms);
    void log_backoff_settings();
    void kick_all(const std::vector<Handle>& handles, Refusal reason, std::vector<Kick>& kicks);

    PluginConfig config_;
    PluginRuntimeOptions runtime_;
    Logger logger_;
    std::unique_ptr<TokenReplica> replica_;  // shared with the consumer thread (own lock)
    Authenticator authenticator_;
    ConnectionTracker tracker_;
    AclMatcher acl_;
    std::unique_ptr<EventConsumer> consumer_;
    PluginCounters counters_;
    AuthBackoff backoff_;
    bool no_ticks_logged_ = false;

    // Delayed basic auth (null worker: off).
    struct Outstanding {
        std::uint64_t job_id = 0;
        std::string username;          // for the log line
        AuthBackoff::Subject subject;  // for the backoff, with the time of the CONNECT:
        std::int64_t at_ms = 0;        // unix ms
    };
    std::unique_ptr<LookupWorker> worker_;
    std::uint64_t next_job_id_ = 1;
    std::unordered_map<std::string, Outstanding> outstanding_;   // by client id
    std::unordered_map<std::uint64_t, Outstanding> superseded_;  // by job id, answer pending
    std::unordered_map<std::string, AuthDecision> allowed_;      // completed, not yet connected
};

// RedisOptions for the plugin's connections from its configuration.
RedisOptions redis_options(const PluginConfig& config);

}  // namespace tka::plugin
