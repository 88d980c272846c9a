// The threads that talk to Redis on tokend's behalf. Redis calls block (a round trip, a
// Lua script, a replica fence that may wait up to ~1.5 s), so they never run on the event
// loop: a request that needs Redis becomes a job in a bounded queue, served by a fixed
// set of threads that each own one Redis connection. A full queue is refused at once
// (the caller answers 503 with Retry-After), so a slow or dead Redis makes requests fail
// fast instead of piling up in memory.
//
// A connection idle for longer than `idle_probe` is PINGed before its next job; if Redis
// closed it meanwhile (a restart, its `timeout` setting, a proxy's idle limit) it is
// replaced at once instead of failing the request with a spurious 503.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/redis.hpp"

namespace tka::tokend {

class RedisWorkers {
  public:
    using Job = std::function<void(RedisConnection&)>;

    struct Options {
        RedisOptions redis;
        std::size_t threads = 32;
        std::size_t queue_max = 1024;
        std::chrono::milliseconds idle_probe{5000};
    };

    explicit RedisWorkers(Options options);
    ~RedisWorkers();
    RedisWorkers(const RedisWorkers&) = delete;
    RedisWorkers& operator=(const RedisWorkers&) = delete;

    // Queues `job`; false (and `job` untouched) when the queue is full or stopping.
    bool try_submit(Job& job);
    // Runs the jobs already queued, then joins the threads. Idempotent.
    void stop();

  private:
    void run();

    Options options_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// Prepares `redis` for a job after it sat idle since `last_used`: PINGs it when idle for
// longer than `idle_probe` and drops a connection that Redis closed meanwhile, so the
// job's first command reconnects. Used by the workers and the health probe.
void probe_if_idle(RedisConnection& redis, std::chrono::steady_clock::time_point last_used,
                   std::chrono::milliseconds idle_probe);

}  // namespace tka::tokend
