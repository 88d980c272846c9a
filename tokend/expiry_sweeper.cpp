// The sweep thread (see expiry_sweeper.hpp).
#include "tokend/expiry_sweeper.hpp"

#include <optional>

#include "common/expiry_sweep.hpp"
#include "common/time_format.hpp"

namespace tka::tokend {

ExpirySweeper::ExpirySweeper(RedisOptions redis, std::function<void(const std::string&)> on_error,
                             std::chrono::milliseconds interval)
    : redis_(std::move(redis)), on_error_(std::move(on_error)), interval_(interval) {
    thread_ = std::thread([this] { run(); });
}

ExpirySweeper::~ExpirySweeper() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void ExpirySweeper::run() {
    ExpirySweep sweep;
    std::optional<RedisConnection> redis;
    bool failing = false;  // report a failure once, not every interval
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
        lock.unlock();
        try {
            if (!redis) {
                redis.emplace(redis_);
            }
            sweep.pass(*redis, unix_now());
            failing = false;
        } catch (const std::exception& e) {
            redis.reset();
            if (!failing && on_error_) {
                on_error_(e.what());
            }
            failing = true;
        }
        lock.lock();
    }
}

}  // namespace tka::tokend
