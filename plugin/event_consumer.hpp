// The background reader of the lifecycle event stream (common/events.hpp).
//
// One std::thread with its own Redis connection runs
//   XREAD BLOCK <block_ms> COUNT 512 STREAMS <keys::events()> <last id>
// starting from the stream's last entry at startup, and queues parsed events for the
// broker thread, which drains the queue in MOSQ_EVT_TICK (broker functions may only be
// called from the broker thread, so the consumer never kicks or logs itself: its log lines
// are queued too).
//
// Missed events: when the connection breaks, the thread reconnects with backoff
// (100 ms doubling to max_backoff), resumes from the last id it saw (catching up on what the
// stream still holds) and asks the broker thread for a snapshot of the tokens in use. It
// checks each against Redis (token record alive? org token auth on?) and queues verdicts,
// so events lost to trimming or a Redis restart never leave a dead token connected.
//
// The hand-over queue is bounded (max_queued_items) for verdicts and events alike. Events
// that do not fit drop the backlog in favour of a new re-validation. Verdicts are checked
// and queued a chunk at a time, each only once the queue has room for it, with the stream
// read between chunks; a re-validation in progress is abandoned when the backlog is dropped
// (the new snapshot supersedes it). So a snapshot larger than the bound still completes,
// as the broker thread drains.
//
// Token replica (optional, token_replica.hpp): the same thread keeps it. On start and after
// every failure it marks the replica untrusted, re-syncs it from Redis (replica_sync.hpp),
// reads the stream without blocking until it has reached the end, and only then marks it
// caught up. Every event read is applied to the replica at once, before it is queued for
// the broker thread, so a revoked credential stops authenticating before the next TICK.
// The sync is logged: a line when it starts, progress at most every sync_progress_every
// for long syncs, one line when it completes (tokens, orgs, seconds). A sync that fails
// (Redis error or timeout midway) leaves the replica untrusted, is logged as a warning
// with the delay before the next attempt, and is retried after sync_retry_min doubling up
// to sync_retry_max; meanwhile the thread keeps following the stream (kicks go on) and
// every token CONNECT is checked in Redis.
//
// Lease (common/replica_lease.hpp): while caught up, every XREAD return (events or
// timeout; the read blocks at most kReplicaHeartbeatInterval) is followed by a heartbeat
// in the Redis replica registry, which tells writers how far this replica has applied the
// stream. Only a successful heartbeat renews the replica's lease; the replica answers
// nothing once the lease has lapsed. On untrust and on stop the registration is removed
// (best effort). A heartbeat refused with an error reply (e.g. NOPERM for a read-only ACL
// user) leaves the replica without a lease, so every token CONNECT goes to Redis; a
// warning says so once.
//
// stop() returns within about one block interval: the blocking read is bounded and every
// wait checks the stop flag.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "common/events.hpp"
#include "common/redis.hpp"
#include "common/refusal.hpp"
#include "common/time_format.hpp"
#include "plugin/connection_tracker.hpp"
#include "plugin/options.hpp"
#include "plugin/replica_sync.hpp"
#include "plugin/token_replica.hpp"

namespace tka::plugin {

// Re-validation result for one token in use.
struct TokenVerdict {
    std::string org_id;
    std::string token_id;
    bool alive = false;
    UnixSeconds expires_at = 0;  // alive: the record's current expiry (unix seconds)
    // dead: revoked, replaced, expired, unknown_token, token_auth_off or unknown_org
    Refusal reason = Refusal::unknown_token;
};

// Stream events and re-validation verdicts, in the order they were learned (a verdict is
// newer than the events queued before it and older than those queued after it).
using ConsumerItem = std::variant<Event, TokenVerdict>;

// Everything the consumer hands to the broker thread in one drain.
struct ConsumerOutput {
    std::vector<ConsumerItem> items;
    std::vector<std::pair<LogLevel, std::string>> logs;
    bool wants_snapshot = false;  // call provide_snapshot() with the tokens in use
};

// Bounds of the hand-over queue while the broker thread does not drain it (no TICK):
// beyond kMaxQueuedItems the backlog is dropped in favour of a re-validation.
inline constexpr std::size_t kMaxQueuedItems = 100000;
inline constexpr std::size_t kMaxQueuedLogs = 256;
// Tokens re-validated (and verdicts queued) at most at a time, between stream reads.
inline constexpr std::size_t kRevalidationChunk = 256;

struct EventConsumerOptions {
    RedisOptions redis;
    std::chrono::milliseconds block{1000};  // XREAD BLOCK
    std::chrono::milliseconds max_backoff{2000};
    long long batch = 512;  // XREAD COUNT
    std::size_t max_queued_items = kMaxQueuedItems;
    TokenReplica* replica = nullptr;  // kept by this consumer when set (plugin_opt_cache on)
    // Called on the consumer thread right after an event was applied to the replica
    // (measuring the commit -> apply window in tests and benchmarks).
    std::function<void(const Event&)> replica_applied;
    // Replica sync: SSCAN/ZSCAN COUNT hint, progress log interval, retry backoff.
    std::size_t sync_scan_count = kSyncScanCount;
    std::chrono::milliseconds sync_progress_every{5000};
    std::chrono::milliseconds sync_retry_min{1000};
    std::chrono::milliseconds sync_retry_max{60000};
    // Called on the consumer thread after every chunk of a sync (tests: observe the replica
    // while a sync runs, or break Redis midway).
    std::function<void(const ReplicaSyncResult&)> sync_progress;
};

class EventConsumer {
  public:
    explicit EventConsumer(EventConsumerOptions options);
    ~EventConsumer();
    EventConsumer(const EventConsumer&) = delete;
    EventConsumer& operator=(const EventConsumer&) = delete;

    void start();
    void stop();  // idempotent; joins the thread

    // Broker thread: takes what has been queued since the last call.
    ConsumerOutput drain();
    // Broker thread: the tokens in use, answering ConsumerOutput::wants_snapshot.
    void provide_snapshot(std::vector<TokenRef> tokens);

    // Whether the reader has found its starting point in the stream (tests wait for it).
    bool positioned() const { return positioned_.load(); }
    // The replica's id in the registry (random hex per consumer; empty without replica).
    const std::string& replica_id() const { return replica_id_; }
    std::uint64_t reconnects() const { return reconnects_.load(); }
    std::uint64_t revalidations() const { return revalidations_.load(); }

  private:
    void run();
    void position();
    // block 0: no BLOCK argument (returns at once). Returns the number of entries read.
    std::size_t read_once(std::chrono::milliseconds block);
    // One sync attempt, logged; on failure schedules the retry and throws SyncFailed.
    void sync_replica_now();
    void replica_lost(const std::string& why);
    // After an XREAD return while caught up: registry heartbeat, lease renewal.
    void heartbeat();
    // Best effort: drops this replica's registration (no exception).
    void deregister();
    // Re-validates the next chunk of revalidating_ if the queue has room for its verdicts.
    void revalidate_some();
    TokenVerdict verdict_for(const TokenRef& ref, UnixSeconds now);
    void queue_log(LogLevel level, std::string message);
    bool sleep_for(std::chrono::milliseconds delay);  // false when stopping

    EventConsumerOptions options_;
    RedisConnection redis_;  // consumer thread only
    std::string stream_key_;
    std::string last_id_;  // consumer thread only
    // Replica (consumer thread only): synced since the last failure, and the stream id its
    // scan corresponds to (events after it are applied).
    bool replica_synced_ = false;
    std::string replica_sync_id_;
    // Sync attempts (consumer thread only): failures in a row, and no attempt before.
    unsigned sync_failures_ = 0;
    std::chrono::steady_clock::time_point next_sync_{};
    // Registry and lease (consumer thread only; see common/replica_lease.hpp).
    std::string replica_id_;
    std::chrono::milliseconds read_block_;  // XREAD BLOCK outside catch-up
    bool registered_ = false;               // a heartbeat may have written our registration
    bool lease_chain_ = false;  // every heartbeat since the last one that set lease_need_ worked
    std::string lease_need_;    // applied id a lease needs since the last break
    bool replica_announced_ = false;  // "trusted" logged since the last untrust
    bool heartbeat_refusal_logged_ = false;
    // Re-validation in progress (consumer thread only): whether one is, the snapshot, how
    // many of its tokens have their verdict queued, and each org's state as read in this
    // pass (nullopt: token auth on).
    bool revalidation_active_ = false;
    std::vector<TokenRef> revalidating_;
    std::size_t revalidated_ = 0;
    std::map<std::string, std::optional<Refusal>> org_states_;

    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> positioned_{false};
    std::atomic<std::uint64_t> reconnects_{0};
    std::atomic<std::uint64_t> revalidations_{0};

    std::mutex mutex_;  // guards everything below
    std::condition_variable wake_;
    ConsumerOutput pending_;
    bool snapshot_requested_ = false;  // asked, not yet answered
    std::optional<std::vector<TokenRef>> snapshot_;
};

// "ms-seq" stream ids compared numerically; false for malformed ids.
bool stream_id_less(const std::string& a, const std::string& b);

}  // namespace tka::plugin
