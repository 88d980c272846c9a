// Token CONNECTs that need Redis, answered off the broker thread. With Mosquitto 2.1's
// delayed basic auth the plugin answers MOSQ_ERR_AUTH_DELAYED, hands the lookup to this
// worker and completes the CONNECT from MOSQ_EVT_TICK once the answer is back
// (mosquitto_complete_basic_auth must be called on the broker thread). So a slow or
// unreachable Redis delays only the CONNECTs that need it; the broker thread, and every
// other client, never waits for Redis.
//
// One thread with its own Authenticator (its own Redis connection, same timeouts and
// backoff as the broker-thread one). The queue is bounded (`max_queued`): a CONNECT that
// finds it full is refused at once as busy instead of piling up. Every submitted job yields
// exactly one LookupDone, so the caller's bookkeeping of outstanding jobs stays bounded too.
// Log lines from the worker thread are queued and handed out by drain(), because
// Mosquitto's log functions may only be called on the broker thread.
//
// While Redis is down (redis_healthy() false) the caller refuses token CONNECTs at once
// (server unavailable) instead of delaying them; the worker probes Redis every
// `probe_interval` so that it notices when Redis is back.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "plugin/authenticator.hpp"

namespace tka::plugin {

struct LookupJob {
    std::uint64_t id = 0;   // chosen by the caller, handed back in LookupDone
    std::string client_id;  // handed back in LookupDone
    PendingLookup lookup;
};

struct LookupDone {
    std::uint64_t id = 0;
    std::string client_id;
    AuthDecision decision;
};

struct LookupWorkerOptions {
    RedisOptions redis;
    TokenReplica* replica = nullptr;                // filled on success; may be null
    std::size_t max_queued = 1024;                  // jobs waiting (not yet taken by the thread)
    std::chrono::milliseconds probe_interval{250};  // Redis probe while it is down
    LogLevel log_level = LogLevel::notice;
};

class LookupWorker {
  public:
    explicit LookupWorker(LookupWorkerOptions options);
    ~LookupWorker();
    LookupWorker(const LookupWorker&) = delete;
    LookupWorker& operator=(const LookupWorker&) = delete;

    void start();
    // Joins the thread; jobs still queued are dropped.
    void stop();

    // Any thread. False when the queue is full (the job is not taken).
    bool submit(LookupJob job);

    struct Drained {
        std::vector<LookupDone> done;
        std::vector<std::pair<LogLevel, std::string>> logs;
    };
    // Broker thread: answers and log lines since the last call.
    Drained drain();

    // Whether the worker's last Redis exchange worked.
    bool redis_healthy() const { return healthy_.load(std::memory_order_relaxed); }

  private:
    void run();

    LookupWorkerOptions options_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<LookupJob> queue_;                         // guarded by mutex_
    std::vector<LookupDone> done_;                        // guarded by mutex_
    std::vector<std::pair<LogLevel, std::string>> logs_;  // guarded by mutex_
    bool stopping_ = false;                               // guarded by mutex_
    std::atomic<bool> healthy_{true};
    Authenticator authenticator_;  // worker thread only (after start)
    std::thread thread_;
};

}  // namespace tka::plugin
