// The delayed-auth Redis worker (see lookup_worker.hpp).
#include "plugin/lookup_worker.hpp"

namespace tka::plugin {

LookupWorker::LookupWorker(LookupWorkerOptions options)
    : options_(std::move(options)),
      authenticator_(options_.redis,
                     Logger(
                         [this](LogLevel level, const std::string& message) {
                             std::lock_guard lock(mutex_);
                             logs_.emplace_back(level, message);
                         },
                         options_.log_level),
                     options_.replica) {}

LookupWorker::~LookupWorker() {
    stop();
}

void LookupWorker::start() {
    if (!thread_.joinable()) {
        thread_ = std::thread([this] { run(); });
    }
}

void LookupWorker::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

bool LookupWorker::submit(LookupJob job) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= options_.max_queued) {
            return false;
        }
        queue_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

LookupWorker::Drained LookupWorker::drain() {
    Drained out;
    std::lock_guard lock(mutex_);
    out.done.swap(done_);
    out.logs.swap(logs_);
    return out;
}

void LookupWorker::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (queue_.empty()) {
            const bool woken = wake_.wait_for(lock, options_.probe_interval,
                                              [this] { return stopping_ || !queue_.empty(); });
            if (!woken && !authenticator_.redis_healthy()) {
                lock.unlock();
                authenticator_.probe();
                healthy_.store(authenticator_.redis_healthy(), std::memory_order_relaxed);
                lock.lock();
            }
            continue;
        }
        LookupJob job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        LookupDone done{job.id, std::move(job.client_id), authenticator_.lookup(job.lookup)};
        healthy_.store(authenticator_.redis_healthy(), std::memory_order_relaxed);
        lock.lock();
        done_.push_back(std::move(done));
    }
}

}  // namespace tka::plugin
