// The bounded Redis worker pool (see redis_workers.hpp).
#include "tokend/redis_workers.hpp"

#include <utility>

namespace tka::tokend {

RedisWorkers::RedisWorkers(Options options) : options_(std::move(options)) {
    threads_.reserve(options_.threads);
    for (std::size_t i = 0; i < options_.threads; ++i) {
        threads_.emplace_back([this] { run(); });
    }
}

RedisWorkers::~RedisWorkers() {
    stop();
}

bool RedisWorkers::try_submit(Job& job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= options_.queue_max) {
            return false;
        }
        queue_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

void RedisWorkers::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
}

void RedisWorkers::run() {
    // Each thread's own connection, opened on its first job.
    RedisConnection redis(options_.redis);
    auto last_used = std::chrono::steady_clock::now();
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;  // stopping, and nothing left to run
            }
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        probe_if_idle(redis, last_used, options_.idle_probe);
        job(redis);
        last_used = std::chrono::steady_clock::now();
    }
}

void probe_if_idle(RedisConnection& redis, std::chrono::steady_clock::time_point last_used,
                   std::chrono::milliseconds idle_probe) {
    if (!redis.connected() || std::chrono::steady_clock::now() - last_used <= idle_probe) {
        return;
    }
    try {
        redis.command({"PING"});
    } catch (const RedisError&) {
        // The socket went stale while idle. Drop it so the job's first command reconnects
        // right away; if Redis is really down, that attempt fails fast and the usual
        // backoff applies from then on.
        redis.disconnect();
    }
}

}  // namespace tka::tokend
