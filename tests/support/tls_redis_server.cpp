// TlsRedisServer (tls_redis_server.hpp): redis-server with its TLS options, ready once a
// TLS PING answers.
#include "tests/support/tls_redis_server.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace tka::test {

TlsRedisServer::TlsRedisServer(const TestPki& pki, TlsRedisConfig config)
    : pki_(pki), config_(config), port_(free_port()) {
    start();
}

TlsRedisServer::~TlsRedisServer() {
    stop();
}

std::string TlsRedisServer::url() const {
    std::string out = "rediss://127.0.0.1:";
    out.append(std::to_string(port_));
    return out;
}

RedisOptions TlsRedisServer::options() const {
    RedisOptions o;
    o.endpoint = parse_redis_url(url());
    o.connect_timeout = std::chrono::milliseconds(2000);
    o.command_timeout = std::chrono::milliseconds(2000);
    o.max_backoff = std::chrono::milliseconds(100);
    o.tls.ca_file = pki_.ca_cert();
    o.tls.cert_file = pki_.client_cert();
    o.tls.key_file = pki_.client_key();
    return o;
}

void TlsRedisServer::start() {
    if (process_) {
        return;
    }
    const std::string cert = config_.other_name_cert ? pki_.other_name_cert() : pki_.server_cert();
    const std::string key = config_.other_name_cert ? pki_.other_name_key() : pki_.server_key();
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"redis-server",
                                 "--port",
                                 "0",
                                 "--tls-port",
                                 std::to_string(port_),
                                 "--tls-cert-file",
                                 cert,
                                 "--tls-key-file",
                                 key,
                                 "--tls-ca-cert-file",
                                 pki_.ca_cert(),
                                 "--tls-auth-clients",
                                 config_.require_client_cert ? "yes" : "no",
                                 "--bind",
                                 "127.0.0.1",
                                 "--save",
                                 "",
                                 "--appendonly",
                                 "no",
                                 "--dir",
                                 dir_.path(),
                                 "--daemonize",
                                 "no",
                                 "--protected-mode",
                                 "yes"},
        dir_.file("redis.log"));
    RedisOptions probe = options();
    probe.tls.insecure = true;  // readiness only: the certificate may name another host
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            RedisConnection conn(probe);
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
    std::string what = "redis-server (TLS) did not start on port ";
    what.append(std::to_string(port_)).append(":\n").append(log);
    throw std::runtime_error(what);
}

void TlsRedisServer::stop() {
    if (process_) {
        process_->stop();
        process_.reset();
    }
}

}  // namespace tka::test
