// Event stream reader and re-validation (see event_consumer.hpp).
#include "plugin/event_consumer.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/lua_scripts.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "common/replica_lease.hpp"
#include "common/token_store.hpp"
#include "plugin/replica_sync.hpp"

namespace tka::plugin {

namespace {

std::optional<std::pair<std::uint64_t, std::uint64_t>> split_id(const std::string& id) {
    const std::size_t dash = id.find('-');
    if (dash == std::string::npos) {
        return std::nullopt;
    }
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;
    auto r1 = std::from_chars(id.data(), id.data() + dash, ms);
    auto r2 = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
    if (r1.ec != std::errc() || r1.ptr != id.data() + dash || r2.ec != std::errc() ||
        r2.ptr != id.data() + id.size()) {
        return std::nullopt;
    }
    return std::make_pair(ms, seq);
}

constexpr std::chrono::milliseconds kMinBackoff{100};

// A replica sync attempt failed; already logged and its retry scheduled.
struct SyncFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// "4.2 s"
std::string seconds_text(std::chrono::steady_clock::duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
    return buf;
}

std::string sync_totals(const ReplicaSyncResult& r) {
    std::string s = std::to_string(r.tokens);
    s.append(" live token(s) of ").append(std::to_string(r.orgs)).append(" organization(s)");
    return s;
}

// min doubling per failure in a row, capped at max.
std::chrono::milliseconds retry_delay(unsigned failures, std::chrono::milliseconds min,
                                      std::chrono::milliseconds max) {
    std::chrono::milliseconds d = min;
    for (unsigned i = 1; i < failures && d < max; ++i) {
        d *= 2;
    }
    return std::min(d, max);
}

// While a snapshot is awaited the read blocks briefly so re-validation starts promptly.
constexpr std::chrono::milliseconds kShortBlock{100};

}  // namespace

bool stream_id_less(const std::string& a, const std::string& b) {
    const auto x = split_id(a);
    const auto y = split_id(b);
    return x && y && *x < *y;
}

EventConsumer::EventConsumer(EventConsumerOptions options)
    : options_(std::move(options)),
      redis_(options_.redis),
      stream_key_(keys::events()),
      read_block_(
          options_.replica != nullptr
              ? std::min(options_.block, std::chrono::milliseconds(kReplicaHeartbeatInterval))
              : options_.block) {
    if (options_.replica != nullptr) {
        replica_id_ = crypto::hex(crypto::random_bytes(8));
    }
}

EventConsumer::~EventConsumer() {
    stop();
}

void EventConsumer::start() {
    if (thread_.joinable()) {
        return;
    }
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void EventConsumer::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

ConsumerOutput EventConsumer::drain() {
    std::lock_guard<std::mutex> lock(mutex_);
    ConsumerOutput out = std::move(pending_);
    pending_ = ConsumerOutput{};
    return out;
}

void EventConsumer::provide_snapshot(std::vector<TokenRef> tokens) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        snapshot_ = std::move(tokens);
        snapshot_requested_ = false;
    }
    wake_.notify_all();
}

void EventConsumer::queue_log(LogLevel level, std::string message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.logs.size() < kMaxQueuedLogs) {
        pending_.logs.emplace_back(level, std::move(message));
    }
}

bool EventConsumer::sleep_for(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
    return !stopping_.load();
}

void EventConsumer::run() {
    std::chrono::milliseconds backoff{0};
    bool failed = false;       // since the last successful exchange
    bool lost_logged = false;  // "event stream lost" logged for this failure
    while (!stopping_.load()) {
        try {
            if (!positioned_.load() || failed) {
                position();
            }
            if (options_.replica != nullptr && !replica_synced_ &&
                std::chrono::steady_clock::now() >= next_sync_) {
                sync_replica_now();
            }
            if (failed) {
                failed = false;
                backoff = std::chrono::milliseconds{0};
                ++reconnects_;
                if (lost_logged) {
                    queue_log(LogLevel::notice,
                              "event stream reconnected; re-validating tracked connections");
                }
                lost_logged = false;
                std::lock_guard<std::mutex> lock(mutex_);
                snapshot_requested_ = true;
                pending_.wants_snapshot = true;
            }
            std::optional<std::vector<TokenRef>> snapshot;
            bool awaiting = false;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                snapshot.swap(snapshot_);
                awaiting = snapshot_requested_;
            }
            if (snapshot) {
                // A newer snapshot supersedes a re-validation still in progress.
                revalidating_ = std::move(*snapshot);
                revalidated_ = 0;
                revalidation_active_ = true;
                org_states_.clear();
                revalidate_some();
            } else if (revalidation_active_) {
                revalidate_some();
            }
            // Catching up after a sync: read without blocking until the end of the stream.
            // Without a sync (one failed, its retry not due yet) the stream is followed as
            // usual, for the broker thread's kicks; the replica stays untrusted.
            const bool catching_up =
                options_.replica != nullptr && replica_synced_ && !options_.replica->caught_up();
            const std::size_t n = read_once(catching_up ? std::chrono::milliseconds{0}
                                            : awaiting || revalidation_active_ ? kShortBlock
                                                                               : read_block_);
            if (catching_up && n < static_cast<std::size_t>(options_.batch)) {
                options_.replica->set_trusted(true);
            }
            if (options_.replica != nullptr && options_.replica->caught_up()) {
                heartbeat();
            }
            if (options_.replica != nullptr) {  // bounded: one purge step per read
                options_.replica->purge_expired(unix_now());
                if (auto notice = options_.replica->take_notice()) {
                    queue_log(notice->level, std::move(notice->message));
                }
            }
        } catch (const SyncFailed& e) {
            // Logged with its own backoff (sync_replica_now). The connection may hold
            // unread replies: drop it, and re-position as after any failure (Redis may have
            // restarted), but follow the stream again soon.
            replica_lost(e.what());
            failed = true;
            redis_.disconnect();
            if (stopping_.load() || !sleep_for(kMinBackoff)) {
                break;
            }
        } catch (const std::exception& e) {
            replica_lost(e.what());
            if (stopping_.load()) {
                break;
            }
            if (!failed) {
                lost_logged = true;
                queue_log(LogLevel::warning, std::string("event stream lost (") + e.what() +
                                                 "); reconnecting with backoff");
            }
            failed = true;
            redis_.disconnect();
            backoff =
                std::min(options_.max_backoff, backoff.count() == 0 ? kMinBackoff : backoff * 2);
            if (!sleep_for(backoff)) {
                break;
            }
        }
    }
    if (options_.replica != nullptr) {
        options_.replica->set_trusted(false);
        deregister();
    }
}

void EventConsumer::heartbeat() {
    // Everything up to this id is in the replica: the sync covers the stream up to
    // replica_sync_id_, the reads applied every event after it.
    std::string applied = last_id_;
    if (stream_id_less(applied, replica_sync_id_)) {
        applied = replica_sync_id_;
    }
    // Taken before the heartbeat is sent: the lease can only end earlier than the writer's
    // view of it (Redis stamps the heartbeat later than this instant).
    const auto sent = std::chrono::steady_clock::now();
    registered_ = true;
    const RedisValue reply = scripts::replica_heartbeat().eval(
        redis_, {keys::replicas(), keys::replicas_applied(), stream_key_},
        {replica_id_, applied, std::to_string(kReplicaStaleAfter.count()),
         std::to_string(kReplicaForgetAfter.count())});
    if (reply.is_error()) {
        lease_chain_ = false;
        if (!heartbeat_refusal_logged_) {
            heartbeat_refusal_logged_ = true;
            queue_log(LogLevel::warning,
                      "token replica heartbeat refused by Redis (" + reply.str +
                          "); the cache needs write access to the keys " + keys::replicas() +
                          " and " + keys::replicas_applied() +
                          " (EVALSHA/EVAL, ZADD, HSET, ZREM, HDEL, ZRANGEBYSCORE). Until then "
                          "every token CONNECT is checked in Redis");
        }
        return;
    }
    if (!reply.is_array() || reply.elements.size() < 2 ||
        reply.elements[0].type != RedisValue::Type::integer) {
        throw RedisError("replica heartbeat: unexpected reply");
    }
    const bool previous_fresh = reply.elements[0].integer == 1;
    if (!lease_chain_ || !previous_fresh) {
        // A break: a writer may have stopped waiting for us, up to the stream's end now.
        lease_need_ = reply.elements[1].str;
    }
    lease_chain_ = true;
    if (stream_id_less(applied, lease_need_)) {
        return;  // registered (writers wait for us), but no lease until we applied that
    }
    options_.replica->renew_lease(sent + kReplicaLease);
    if (!replica_announced_) {
        replica_announced_ = true;
        const ReplicaStats st = options_.replica->stats();
        queue_log(LogLevel::info, "token replica trusted: " + std::to_string(st.entries) +
                                      " live token(s) of " + std::to_string(st.orgs) +
                                      " organization(s) in memory");
    }
}

void EventConsumer::deregister() {
    if (!registered_) {
        return;
    }
    registered_ = false;
    try {
        redis_.pipeline({{"ZREM", keys::replicas(), replica_id_},
                         {"HDEL", keys::replicas_applied(), replica_id_}});
    } catch (const std::exception&) {
        // Redis unreachable: the registration goes stale by itself within
        // kReplicaStaleAfter and is deleted after kReplicaForgetAfter.
    }
}

void EventConsumer::position() {
    const RedisValue top =
        redis_.command({"XREVRANGE", stream_key_, "+", "-", "COUNT", "1"}).expect_ok("XREVRANGE");
    std::string top_id = "0-0";
    if (top.is_array() && !top.elements.empty() && top.elements[0].is_array() &&
        !top.elements[0].elements.empty()) {
        top_id = top.elements[0].elements[0].str;
    }
    if (!positioned_.load()) {
        last_id_ = top_id;  // start: only what happens from now on
        positioned_ = true;
    } else if (stream_id_less(top_id, last_id_)) {
        // The stream is behind what we saw (Redis restarted without its data, or the key
        // was recreated): follow the new stream from its start; re-validation covers gaps.
        last_id_ = "0-0";
    }
}

void EventConsumer::sync_replica_now() {
    TokenReplica& replica = *options_.replica;
    replica.set_trusted(false);  // a no-op: a sync only runs while the replica is untrusted
    const unsigned attempt = sync_failures_ + 1;
    const auto started = std::chrono::steady_clock::now();
    auto last_log = started;
    std::string start_line = "token replica sync started";
    if (attempt > 1) {
        start_line.append(" (attempt ").append(std::to_string(attempt)).append(")");
    }
    queue_log(LogLevel::info, start_line.append(": token CONNECTs are checked in Redis until "
                                                "the replica is trusted"));
    ReplicaSyncResult so_far;
    ReplicaSyncOptions sync_options;
    sync_options.scan_count = options_.sync_scan_count;
    sync_options.progress = [&](const ReplicaSyncResult& r) {
        so_far.orgs = r.orgs;
        so_far.tokens = r.tokens;
        if (options_.sync_progress) {
            options_.sync_progress(r);
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - last_log >= options_.sync_progress_every) {
            last_log = now;
            std::string line = "token replica sync: ";
            line.append(sync_totals(r)).append(" so far, ").append(seconds_text(now - started));
            queue_log(LogLevel::info, std::move(line));
        }
        return !stopping_.load();
    };
    std::optional<ReplicaSyncResult> result;
    try {
        result = sync_replica(redis_, replica, unix_now(), sync_options);
    } catch (const std::exception& e) {
        sync_failures_ = attempt;
        const auto delay = retry_delay(attempt, options_.sync_retry_min, options_.sync_retry_max);
        next_sync_ = std::chrono::steady_clock::now() + delay;
        std::string line = "token replica sync failed after ";
        line.append(sync_totals(so_far))
            .append(" in ")
            .append(seconds_text(std::chrono::steady_clock::now() - started))
            .append(" (")
            .append(e.what())
            .append("); attempt ")
            .append(std::to_string(attempt))
            .append(", next in ")
            .append(seconds_text(delay))
            .append("; token CONNECTs are checked in Redis meanwhile");
        queue_log(LogLevel::warning, std::move(line));
        throw SyncFailed(e.what());
    }
    if (!result) {
        return;  // stopping
    }
    sync_failures_ = 0;
    replica_sync_id_ = result->stream_id;
    replica_synced_ = true;
    std::string line = "token replica synced: ";
    line.append(sync_totals(*result))
        .append(" in ")
        .append(seconds_text(std::chrono::steady_clock::now() - started))
        .append(" (")
        .append(std::to_string(result->round_trips))
        .append(" round trips); catching up from ")
        .append(result->stream_id);
    queue_log(LogLevel::info, std::move(line));
}

void EventConsumer::replica_lost(const std::string& why) {
    if (options_.replica == nullptr) {
        return;
    }
    replica_synced_ = false;
    lease_chain_ = false;
    replica_announced_ = false;
    if (options_.replica->set_trusted(false)) {
        queue_log(LogLevel::info, "token replica untrusted (" + why +
                                      "); token CONNECTs are checked in Redis until it has "
                                      "re-synced");
    }
    deregister();  // after set_trusted(false): never registered-gone while still answering
}

std::size_t EventConsumer::read_once(std::chrono::milliseconds block) {
    std::vector<std::string> argv = {"XREAD", "COUNT", std::to_string(options_.batch)};
    if (block.count() > 0) {
        argv.insert(argv.end(), {"BLOCK", std::to_string(block.count())});
    }
    argv.insert(argv.end(), {"STREAMS", stream_key_, last_id_});
    const RedisValue reply =
        redis_.command_with_timeout(argv, block + options_.redis.command_timeout)
            .expect_ok("XREAD");
    if (!reply.is_array()) {
        return 0;  // nil: nothing new within the block interval
    }
    std::size_t entries = 0;
    const UnixSeconds now = unix_now();
    std::vector<Event> parsed;
    for (const RedisValue& stream : reply.elements) {
        if (!stream.is_array() || stream.elements.size() < 2 || !stream.elements[1].is_array()) {
            continue;
        }
        for (const RedisValue& entry : stream.elements[1].elements) {
            if (!entry.is_array() || entry.elements.empty()) {
                continue;
            }
            std::string id = entry.elements[0].str;
            std::vector<std::pair<std::string, std::string>> fields;
            if (entry.elements.size() >= 2 && entry.elements[1].is_array()) {
                const auto& kv = entry.elements[1].elements;
                for (std::size_t i = 0; i + 1 < kv.size(); i += 2) {
                    fields.emplace_back(kv[i].str, kv[i + 1].str);
                }
            }
            last_id_ = id;
            ++entries;
            if (auto event = parse_event(std::move(id), fields)) {
                // The replica first (this thread, right now), then the broker thread's queue.
                if (options_.replica != nullptr && replica_synced_ &&
                    stream_id_less(replica_sync_id_, event->id)) {
                    options_.replica->apply(*event, now);
                    if (options_.replica_applied) {
                        options_.replica_applied(*event);
                    }
                }
                parsed.push_back(std::move(*event));
            }
        }
    }
    if (!parsed.empty()) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (pending_.items.size() + parsed.size() > options_.max_queued_items) {
            // The broker thread is not draining (no TICK?). Drop the backlog and re-validate
            // instead once it drains again: memory stays bounded, nothing is missed. The
            // verdicts of a re-validation in progress went with the backlog: start over.
            pending_.items.clear();
            revalidation_active_ = false;
            revalidating_.clear();
            revalidated_ = 0;
            snapshot_requested_ = true;
            pending_.wants_snapshot = true;
            if (pending_.logs.size() < kMaxQueuedLogs) {
                pending_.logs.emplace_back(LogLevel::warning,
                                           "event queue overflow (is MOSQ_EVT_TICK arriving?); "
                                           "tracked connections will be re-validated");
            }
            return entries;
        }
        for (Event& e : parsed) {
            pending_.items.emplace_back(std::move(e));
        }
    }
    return entries;
}

void EventConsumer::revalidate_some() {
    std::size_t room = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (pending_.items.size() < options_.max_queued_items) {
            room = options_.max_queued_items - pending_.items.size();
        }
    }
    // Only the broker thread changes the queue meanwhile, and it only empties it.
    const std::size_t left = revalidating_.size() - revalidated_;
    const std::size_t n = std::min({room, kRevalidationChunk, left});
    if (n == 0 && left > 0) {
        return;  // no room: the broker thread drains at its next TICK
    }
    const UnixSeconds now = unix_now();
    std::vector<TokenVerdict> verdicts;
    verdicts.reserve(n);
    for (std::size_t i = revalidated_; i < revalidated_ + n; ++i) {
        if (stopping_.load()) {
            return;
        }
        verdicts.push_back(verdict_for(revalidating_[i], now));
    }
    revalidated_ += n;
    const bool done = revalidated_ == revalidating_.size();
    const std::size_t total = revalidating_.size();
    if (done) {
        revalidation_active_ = false;
        revalidating_.clear();
        revalidated_ = 0;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (TokenVerdict& v : verdicts) {
        pending_.items.emplace_back(std::move(v));
    }
    if (done) {
        ++revalidations_;  // counted once its last verdict is queued
        if (pending_.logs.size() < kMaxQueuedLogs) {
            pending_.logs.emplace_back(
                LogLevel::info, "re-validated " + std::to_string(total) + " token(s) in use");
        }
    }
}

TokenVerdict EventConsumer::verdict_for(const TokenRef& ref, UnixSeconds now) {
    TokenVerdict v;
    v.org_id = ref.org_id;
    v.token_id = ref.token_id;
    auto org_it = org_states_.find(ref.org_id);
    if (org_it == org_states_.end()) {
        std::optional<Refusal> state;
        try {
            if (!OrgStore(redis_).get(ref.org_id).token_auth) {
                state = Refusal::token_auth_off;
            }
        } catch (const Denied&) {
            state = Refusal::unknown_org;  // organization gone (deleted, or Redis lost its data)
        }
        org_it = org_states_.emplace(ref.org_id, state).first;
    }
    if (org_it->second) {
        v.reason = *org_it->second;
        return v;
    }
    const auto record = TokenStore(redis_).get(ref.org_id, ref.token_id, now);
    if (!record || record->user_id != ref.user_id) {
        v.reason = Refusal::unknown_token;
    } else if (record->status != "active") {
        // expired, revoked or replaced, under the same names.
        v.reason = parse_refusal(record->status).value_or(Refusal::revoked);
    } else if (record->expires_at <= now) {
        v.reason = Refusal::expired;
    } else {
        v.alive = true;
        v.expires_at = record->expires_at;
    }
    return v;
}

}  // namespace tka::plugin
