// The plugin logic behind the Mosquitto glue (see token_auth_plugin.hpp).
#include "plugin/token_auth_plugin.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "common/time_format.hpp"
#include "plugin/log_text.hpp"

namespace tka::plugin {

namespace {

// The client's own text, bounded and escaped (log_text.hpp): callers put it last, after
// the reason, so a line the broker cuts at 999 characters keeps its reason.
std::string describe_client(std::optional<std::string_view> client_id,
                            std::optional<std::string_view> username) {
    std::string out = "client '";
    out.append(loggable(client_id.value_or("")));
    out.append("'");
    if (username) {
        out.append(" (username '");
        out.append(loggable(*username));
        out.append("')");
    }
    return out;
}

}  // namespace

RedisOptions redis_options(const PluginConfig& config) {
    RedisOptions options;
    options.endpoint = config.redis_endpoint;
    options.tls = config.redis_tls;
    options.connect_timeout = config.redis_timeout;
    options.command_timeout = config.redis_timeout;
    options.max_backoff = std::chrono::milliseconds(2000);
    return options;
}

TokenAuthPlugin::TokenAuthPlugin(PluginConfig config, LogSink sink, PluginRuntimeOptions runtime)
    : config_(std::move(config)),
      runtime_(runtime),
      logger_(std::move(sink), config_.log_level),
      replica_(config_.cache ? std::make_unique<TokenReplica>(config_.cache_max_entries) : nullptr),
      authenticator_(redis_options(config_), logger_, replica_.get()),
      acl_(config_.acl_read, config_.acl_write),
      backoff_(AuthBackoff::options_from(config_)) {
    EventConsumerOptions consumer_options;
    consumer_options.redis = redis_options(config_);
    consumer_options.block = runtime_.consumer_block;
    consumer_options.replica = replica_.get();
    consumer_options.replica_applied = runtime_.replica_applied;
    consumer_ = std::make_unique<EventConsumer>(std::move(consumer_options));
}

TokenAuthPlugin::~TokenAuthPlugin() {
    stop();
}

void TokenAuthPlugin::start() {
    logger_.log(LogLevel::notice,
                "using Redis at " + config_.redis_endpoint.redacted() + ", timeout " +
                    std::to_string(config_.redis_timeout.count()) + " ms, token clients " +
                    describe_acl(config_) + ", token replica " +
                    (replica_ ? "on (at most " + std::to_string(config_.cache_max_entries) +
                                    " entries, registry id " + consumer_->replica_id() + ")"
                              : std::string("off")) +
                    ", delayed basic auth " + (worker_ ? "on" : "off"));
    if (config_.acl_read.empty() || config_.acl_write.empty()) {
        logger_.log(LogLevel::warning,
                    "plugin_opt_acl_default none: token clients are not confined to their "
                    "organization's topics; unsafe when organizations share this broker");
    }
    log_backoff_settings();
    authenticator_.probe();
    if (worker_) {
        worker_->start();
    }
    if (runtime_.start_consumer) {
        consumer_->start();
    }
}

void TokenAuthPlugin::stop() {
    if (worker_) {
        worker_->stop();
    }
    if (consumer_) {
        consumer_->stop();
    }
}

void TokenAuthPlugin::use_delayed_auth() {
    if (worker_) {
        return;
    }
    LookupWorkerOptions options;
    options.redis = redis_options(config_);
    options.replica = replica_.get();
    options.log_level = config_.log_level;
    worker_ = std::make_unique<LookupWorker>(std::move(options));
}

AuthDecision TokenAuthPlugin::on_basic_auth(Handle handle,
                                            std::optional<std::string_view> client_id,
                                            std::optional<std::string_view> username,
                                            std::optional<std::string_view> password,
                                            std::int64_t now_ms,
                                            std::optional<std::string_view> client_address) {
    // A reused handle (the broker recycles memory) must not inherit an old entry.
    tracker_.remove(handle);
    if (worker_ && client_id) {
        // This CONNECT supersedes any earlier delayed one of the same client id.
        const auto it = outstanding_.find(std::string(*client_id));
        if (it != outstanding_.end()) {
            // Its answer still counts for the backoff (else one client id could flood).
            superseded_.emplace(it->second.job_id, std::move(it->second));
            outstanding_.erase(it);
        }
    }

    auto first = authenticator_.decide_in_memory(username, password, now_ms / 1000);
    AuthDecision decision;
    if (auto* decided = std::get_if<AuthDecision>(&first)) {
        decision = std::move(*decided);
    }
    const bool ours =
        !std::holds_alternative<AuthDecision>(first) || decision.kind != AuthDecision::Kind::defer;
    AuthBackoff::Subject subject;  // who this CONNECT counts for in the backoff
    if (ours) {
        const bool malformed = decision.kind == AuthDecision::Kind::deny &&
                               decision.reason == Refusal::malformed_username;
        subject = backoff_.subject(client_address, malformed ? std::nullopt : username);
    }
    if (ours && counters_.ticks == 0) {
        decision = refuse_without_ticks();
    } else if (auto* pending = std::get_if<PendingLookup>(&first)) {
        if (backoff_.in_backoff(subject, AuthBackoff::at(now_ms))) {
            decision = AuthDecision::deny(Refusal::backoff);  // memory could not decide
            ++counters_.backoff_refusals;
        } else if (worker_ && client_id) {
            if (!worker_->redis_healthy()) {
                decision = AuthDecision::deny(Refusal::redis_unavailable);
            } else if (worker_->submit(
                           LookupJob{next_job_id_, std::string(*client_id), std::move(*pending)})) {
                outstanding_[std::string(*client_id)] = Outstanding{
                    next_job_id_++, std::string(username.value_or("")), std::move(subject), now_ms};
                ++counters_.auth_delayed;
                if (logger_.enabled(LogLevel::debug)) {
                    logger_.log(LogLevel::debug, "waits for Redis (delayed basic auth): " +
                                                     describe_client(client_id, username));
                }
                decision.kind = AuthDecision::Kind::delayed;
                return decision;
            } else {
                decision = AuthDecision::deny(Refusal::busy);
            }
        } else {
            decision = authenticator_.lookup(*pending);
        }
    }
    note(decision, client_id, username);
    settle_backoff(decision, subject, now_ms);
    if (decision.kind == AuthDecision::Kind::allow) {
        track(handle, client_id.value_or(""), decision);
    }
    return decision;
}

void TokenAuthPlugin::settle_backoff(const AuthDecision& decision,
                                     const AuthBackoff::Subject& subject, std::int64_t now_ms) {
    if (decision.kind == AuthDecision::Kind::allow) {
        backoff_.success(subject, AuthBackoff::at(now_ms));
        return;
    }
    if (decision.kind != AuthDecision::Kind::deny || !counts_for_backoff(decision.reason)) {
        return;
    }
    const AuthBackoff::Outcome outcome = backoff_.failure(subject, AuthBackoff::at(now_ms));
    const auto entered = [this](const FailureThrottle::Outcome& o, std::string_view who,
                                std::string_view name) {
        if (!o.blocked) {
            return;
        }
        ++counters_.backoff_entries;
        std::string line = "backoff for ";
        line += std::to_string(o.penalty_seconds);
        line += " s after repeated failed token CONNECTs: ";
        line += who;
        line += " '";
        line += printable(name);
        line += "'";
        logger_.log(LogLevel::notice, line);
    };
    entered(outcome.address, "client address", subject.address);
    entered(outcome.username, "username", subject.username);
}

void TokenAuthPlugin::log_backoff_settings() {
    const AuthBackoff::Options& o = backoff_.options();
    if (!o.enabled) {
        logger_.log(LogLevel::notice, "failed-auth backoff off");
        return;
    }
    std::string line = "failed-auth backoff on: above ";
    line += std::to_string(static_cast<long long>(o.threshold));
    line += " failures (half-life ";
    line += std::to_string(AuthBackoff::kHalfLife.count());
    line += " s) an address or username waits ";
    line += std::to_string(o.first.count());
    line += " s, doubling to ";
    line += std::to_string(o.max.count());
    line += " s; at most ";
    line += std::to_string(o.max_tracked);
    line += " addresses and as many usernames tracked";
    logger_.log(LogLevel::notice, line);
}

AuthDecision TokenAuthPlugin::refuse_without_ticks() {
    if (!no_ticks_logged_) {
        no_ticks_logged_ = true;
        logger_.log(LogLevel::error,
                    "refusing token clients: the broker sends this plugin no MOSQ_EVT_TICK, so "
                    "expired and revoked tokens could not be disconnected (Mosquitto 2.0.11 to "
                    "2.0.14 with 'per_listener_settings true'). Set 'per_listener_settings "
                    "false' or upgrade to Mosquitto 2.0.15 or later.");
    }
    return AuthDecision::deny(Refusal::no_tick_events);
}

void TokenAuthPlugin::note(const AuthDecision& decision, std::optional<std::string_view> client_id,
                           std::optional<std::string_view> username) {
    switch (decision.replica) {
        case AuthDecision::Replica::off:
            break;
        case AuthDecision::Replica::hit:
            ++counters_.replica_hits;
            break;
        case AuthDecision::Replica::miss:
            ++counters_.replica_misses;
            break;
        case AuthDecision::Replica::untrusted:
            ++counters_.replica_untrusted;
            break;
    }
    switch (decision.kind) {
        case AuthDecision::Kind::defer:
            ++counters_.auth_deferred;
            break;
        case AuthDecision::Kind::delayed:
            break;
        case AuthDecision::Kind::deny:
            ++counters_.auth_denied;
            if (decision.reason == Refusal::redis_unavailable) {
                ++counters_.auth_redis_failures;
            }
            counters_.refused_by_reason.add(decision.reason);
            logger_.log(LogLevel::notice, "refused: " + std::string(refusal_name(decision.reason)) +
                                              ", " + describe_client(client_id, username));
            break;
        case AuthDecision::Kind::allow:
            ++counters_.auth_allowed;
            if (logger_.enabled(LogLevel::info)) {
                logger_.log(LogLevel::info, "authenticated with token " + decision.token_id +
                                                ", expires " + format_rfc3339(decision.expires_at) +
                                                (decision.replica == AuthDecision::Replica::hit
                                                     ? " (from the replica)"
                                                     : "") +
                                                ": " + describe_client(client_id, username));
            }
            break;
    }
}

void TokenAuthPlugin::track(Handle handle, std::string_view client_id,
                            const AuthDecision& decision) {
    tracker_.add(handle, client_id, decision.org_id, decision.user_id, decision.token_id,
                 decision.expires_at * 1000);
}

std::vector<Completion> TokenAuthPlugin::take_completions() {
    std::vector<Completion> out;
    if (!worker_) {
        return out;
    }
    LookupWorker::Drained drained = worker_->drain();
    for (const auto& [level, message] : drained.logs) {
        logger_.log(level, message);
    }
    for (LookupDone& done : drained.done) {
        const auto it = outstanding_.find(done.client_id);
        if (it == outstanding_.end() || it->second.job_id != done.id) {
            // Superseded by a later CONNECT of the same client id: only the backoff learns.
            const auto old = superseded_.find(done.id);
            if (old != superseded_.end()) {
                settle_backoff(done.decision, old->second.subject, old->second.at_ms);
                superseded_.erase(old);
            }
            continue;
        }
        const Outstanding waited = std::move(it->second);
        outstanding_.erase(it);
        note(done.decision, done.client_id, waited.username);
        settle_backoff(done.decision, waited.subject, waited.at_ms);
        Completion c{done.client_id, done.decision.kind == AuthDecision::Kind::allow,
                     done.decision.reason};
        if (c.allowed) {
            allowed_[done.client_id] = std::move(done.decision);
        }
        out.push_back(std::move(c));
    }
    return out;
}

void TokenAuthPlugin::on_connect(Handle handle, std::string_view client_id) {
    const auto it = allowed_.find(std::string(client_id));
    if (it == allowed_.end()) {
        return;  // authenticated without delay (already tracked), or not a token client
    }
    track(handle, client_id, it->second);
    allowed_.erase(it);
}

void TokenAuthPlugin::completed(std::string_view client_id) {
    // Still here: the client left while it waited, so no MOSQ_EVT_CONNECT came.
    allowed_.erase(std::string(client_id));
}

int TokenAuthPlugin::next_tick_ms() const {
    return outstanding_.empty() ? 100 : 1;
}

AclResult TokenAuthPlugin::on_acl_check(Handle handle, std::string_view topic,
                                        Access access) const {
    if (!acl_.active()) {
        return AclResult::defer;
    }
    const auto conn = tracker_.find(handle);
    if (!conn) {
        return AclResult::defer;  // not a token connection
    }
    return acl_.check(conn->org_id, conn->user_id, topic, access);
}

void TokenAuthPlugin::on_disconnect(Handle handle) {
    tracker_.remove(handle);
}

void TokenAuthPlugin::kicked(Handle handle) {
    tracker_.remove(handle);
}

void TokenAuthPlugin::kick_all(const std::vector<Handle>& handles, Refusal reason,
                               std::vector<Kick>& kicks) {
    for (Handle handle : handles) {
        const auto conn = tracker_.find(handle);
        if (!conn) {
            continue;
        }
        kicks.push_back(
            Kick{handle, std::string(conn->client_id), conn->token_id.str(), reason, true});
    }
}

void TokenAuthPlugin::apply(const ConsumerItem& item, std::vector<Kick>& kicks) {
    if (const auto* event = std::get_if<Event>(&item)) {
        switch (event->type) {
            case Event::Type::token_created:
                return;  // nothing is connected with a token that did not exist
            case Event::Type::token_refreshed: {
                const std::size_t moved =
                    tracker_.extend(event->org_id, event->token_id, event->expires_at * 1000);
                if (moved > 0) {
                    ++counters_.events_applied;
                    logger_.log(LogLevel::info, "token " + event->token_id +
                                                    " refreshed: " + std::to_string(moved) +
                                                    " connection(s) now expire " +
                                                    format_rfc3339(event->expires_at));
                }
                return;
            }
            case Event::Type::token_revoked: {
                const auto handles = tracker_.by_token(event->org_id, event->token_id);
                if (!handles.empty()) {
                    ++counters_.events_applied;
                }
                // The stream says revoked or replaced (docs/events.md); anything else closes
                // them as revoked.
                const auto said = parse_refusal(event->reason);
                kick_all(handles, said == Refusal::replaced ? Refusal::replaced : Refusal::revoked,
                         kicks);
                return;
            }
            case Event::Type::org_updated: {
                if (event->token_auth) {
                    return;
                }
                const auto handles = tracker_.by_org(event->org_id);
                if (!handles.empty()) {
                    ++counters_.events_applied;
                }
                kick_all(handles, Refusal::token_auth_off, kicks);
                return;
            }
        }
        return;
    }
    const auto& verdict = std::get<TokenVerdict>(item);
    ++counters_.verdicts_applied;
    if (verdict.alive) {
        tracker_.extend(verdict.org_id, verdict.token_id, verdict.expires_at * 1000);
    } else {
        kick_all(tracker_.by_token(verdict.org_id, verdict.token_id), verdict.reason, kicks);
    }
}

std::vector<Kick> TokenAuthPlugin::on_tick(std::int64_t now_ms) {
    ++counters_.ticks;
    std::vector<Kick> kicks;

    ConsumerOutput output = consumer_->drain();
    for (const auto& [level, message] : output.logs) {
        logger_.log(level, message);
    }
    if (output.wants_snapshot) {
        consumer_->provide_snapshot(tracker_.snapshot());
    }
    for (const ConsumerItem& item : output.items) {
        apply(item, kicks);
    }
    for (const TrackedConnection& conn : tracker_.due(now_ms)) {
        kicks.push_back(Kick{conn.handle, conn.client_id, conn.token_id, Refusal::expired, true});
    }

    // One kick per connection; decide takeover safety before anything is carried out.
    std::unordered_set<Handle> seen;
    std::vector<Kick> out;
    out.reserve(kicks.size());
    for (Kick& kick : kicks) {
        if (!seen.insert(kick.handle).second) {
            continue;
        }
        kick.by_client_id = tracker_.owns_client_id(kick.handle);
        out.push_back(std::move(kick));
    }
    counters_.kicks += out.size();
    for (const Kick& kick : out) {
        counters_.kicks_by_reason.add(kick.reason);
    }
    return out;
}

void TokenAuthPlugin::carry_out(const std::vector<Kick>& kicks, const KickClient& kick_client) {
    for (const Kick& kick : kicks) {
        if (!tracker_.contains(kick.handle)) {
            continue;  // already gone (an earlier kick, or a takeover)
        }
        if (kick.by_client_id) {
            // The reason first, the client's own text last and bounded (log_text.hpp).
            std::string line = "closing connection: ";
            line.append(refusal_name(kick.reason)).append(" (token ").append(kick.token_id);
            line.append("), client '").append(loggable(kick.client_id)).append("'");
            logger_.log(LogLevel::notice, line);
            kick_client(kick.client_id);  // fires on_disconnect() for a live connection
        }
        kicked(kick.handle);  // no DISCONNECT came (none is due, or no such client id)
    }
}

}  // namespace tka::plugin
