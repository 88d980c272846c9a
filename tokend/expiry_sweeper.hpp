// tokend's background thread for the expiry sweep (common/expiry_sweep.hpp): one bounded
// pass every `interval` over all organizations, on its own Redis connection, so records
// past their retention are deleted in orgs nobody creates tokens in. A failed pass (Redis
// away) is reported through `on_error` and retried at the next interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/redis.hpp"

namespace tka::tokend {

inline constexpr std::chrono::milliseconds kSweepInterval{1000};

class ExpirySweeper {
  public:
    ExpirySweeper(RedisOptions redis, std::function<void(const std::string&)> on_error,
                  std::chrono::milliseconds interval = kSweepInterval);
    ~ExpirySweeper();  // stops the thread
    ExpirySweeper(const ExpirySweeper&) = delete;
    ExpirySweeper& operator=(const ExpirySweeper&) = delete;

  private:
    void run();

    RedisOptions redis_;
    std::function<void(const std::string&)> on_error_;
    std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tka::tokend
