// A throwaway certificate authority for TLS tests, made with the openssl command line when
// the object is built: a CA, a server certificate for IP:127.0.0.1 and DNS:localhost, a
// server certificate for another name only (redis.example.com, to test name checks), a
// client certificate (mutual TLS), and a second, unrelated CA (the "wrong CA"). Keys are
// P-256, so building one takes a few tens of milliseconds.
#pragma once

#include <string>

#include "tests/support/temp_dir.hpp"

namespace tka::test {

class TestPki {
  public:
    TestPki();  // throws std::runtime_error with openssl's output when a step fails

    std::string ca_cert() const { return dir_.file("ca.crt"); }
    std::string server_cert() const { return dir_.file("server.crt"); }  // 127.0.0.1, localhost
    std::string server_key() const { return dir_.file("server.key"); }
    std::string other_name_cert() const { return dir_.file("other.crt"); }  // redis.example.com
    std::string other_name_key() const { return dir_.file("other.key"); }
    std::string client_cert() const { return dir_.file("client.crt"); }
    std::string client_key() const { return dir_.file("client.key"); }
    std::string wrong_ca_cert() const { return dir_.file("wrong-ca.crt"); }

  private:
    // A key and a certificate signed by ca.crt, with `extensions` (an openssl extfile body).
    void issue(const std::string& name, const std::string& subject, const std::string& extensions);
    void make_ca(const std::string& name, const std::string& subject);

    TempDir dir_;
};

}  // namespace tka::test
