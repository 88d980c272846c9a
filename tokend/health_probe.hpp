// /healthz's own path to Redis: one thread with one connection, apart from the Redis
// workers, so a Redis that is slow or stopped, or workers that are all busy, never keep
// /healthz from answering; it answers 503 within the Redis timeout instead. Requests that
// arrive while a PING is in flight share its answer, so a flood of /healthz costs Redis
// one PING at a time. Waiting requests are bounded by the open connections (one request
// per connection at a time).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/redis.hpp"
#include "tokend/api.hpp"

namespace tka::tokend {

class HealthProbe {
  public:
    using Check = std::function<ApiResponse(RedisConnection&)>;
    using Done = std::function<void(const ApiResponse&)>;

    HealthProbe(RedisOptions redis, Check check);
    ~HealthProbe();
    HealthProbe(const HealthProbe&) = delete;
    HealthProbe& operator=(const HealthProbe&) = delete;

    // `done` runs on the probe's thread with the answer of the next PING.
    void submit(Done done);
    // Answers the waiting requests, then joins the thread. Idempotent.
    void stop();

  private:
    void run();

    RedisOptions redis_;
    Check check_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Done> waiting_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tka::tokend
