// The coalescing /healthz probe (see health_probe.hpp).
#include "tokend/health_probe.hpp"

#include <utility>

#include "tokend/redis_workers.hpp"

namespace tka::tokend {

HealthProbe::HealthProbe(RedisOptions redis, Check check)
    : redis_(std::move(redis)), check_(std::move(check)), thread_([this] { run(); }) {}

HealthProbe::~HealthProbe() {
    stop();
}

void HealthProbe::submit(Done done) {
    {
        std::lock_guard lock(mutex_);
        waiting_.push_back(std::move(done));
    }
    wake_.notify_one();
}

void HealthProbe::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void HealthProbe::run() {
    RedisConnection redis(redis_);
    auto last_used = std::chrono::steady_clock::now();
    for (;;) {
        std::vector<Done> batch;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
            if (waiting_.empty()) {
                return;
            }
            batch.swap(waiting_);
        }
        probe_if_idle(redis, last_used, std::chrono::milliseconds(5000));
        const ApiResponse answer = check_(redis);
        last_used = std::chrono::steady_clock::now();
        for (Done& done : batch) {
            done(answer);
        }
    }
}

}  // namespace tka::tokend
