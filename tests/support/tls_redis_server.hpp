// A real redis-server that listens for TLS only (--port 0 --tls-port P) on loopback, with
// certificates from a TestPki; optionally requiring client certificates (mutual TLS) or
// presenting a certificate for another name. Own temp dir, own free port, no persistence.
#pragma once

#include <memory>
#include <string>

#include "common/redis.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

namespace tka::test {

struct TlsRedisConfig {
    bool require_client_cert = false;  // --tls-auth-clients yes (else no)
    bool other_name_cert = false;      // serve other_name_cert() (redis.example.com only)
};

class TlsRedisServer {
  public:
    explicit TlsRedisServer(const TestPki& pki, TlsRedisConfig config = {});
    ~TlsRedisServer();
    TlsRedisServer(const TlsRedisServer&) = delete;
    TlsRedisServer& operator=(const TlsRedisServer&) = delete;

    int port() const { return port_; }
    std::string url() const;  // rediss://127.0.0.1:<port>
    // url(), the test CA and the client certificate: what a correctly configured client uses.
    RedisOptions options() const;
    void stop();
    void start();
    std::string log() const { return process_ ? process_->log() : std::string(); }

  private:
    const TestPki& pki_;
    TlsRedisConfig config_;
    TempDir dir_;
    int port_;
    std::unique_ptr<Process> process_;
};

}  // namespace tka::test
