// RedisServer: a throwaway redis-server on a free loopback port, no persistence.
#include "tests/support/redis_server.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace tka::test {

RedisServer::RedisServer() : port_(free_port()) {
    start();
}

RedisServer::~RedisServer() {
    stop();
}

std::string RedisServer::url() const {
    return "redis://127.0.0.1:" + std::to_string(port_);
}

RedisOptions RedisServer::options() const {
    RedisOptions o;
    o.endpoint = parse_redis_url(url());
    o.connect_timeout = std::chrono::milliseconds(1000);
    o.command_timeout = std::chrono::milliseconds(2000);
    o.max_backoff = std::chrono::milliseconds(100);
    return o;
}

RedisConnection RedisServer::connect() const {
    return RedisConnection(options());
}

void RedisServer::start() {
    if (process_) {
        return;
    }
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind",
                                 "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                                 dir_.path(), "--daemonize", "no", "--protected-mode", "yes"},
        dir_.file("redis.log"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            auto conn = connect();
            if (conn.command({"PING"}).str == "PONG") {
                return;
            }
        } catch (const RedisError&) {
        }
        if (!process_->running()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::string log = process_->log();
    process_.reset();
    throw std::runtime_error("redis-server did not start on port " + std::to_string(port_) + ":\n" +
                             log);
}

void RedisServer::stop() {
    if (process_) {
        process_->stop();
        process_.reset();
    }
}

}  // namespace tka::test
