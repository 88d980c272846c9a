// RedisConnection over TLS against a real redis-server --tls-port with a test CA: verified
// connects, the errors a user sees for a wrong CA, a missing client certificate, a
// certificate for another host, a plain-text port and a server that never answers the
// handshake; `insecure`; mutual TLS; recovery after a restart.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/redis.hpp"
#include "common/socket_transport.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/tls_redis_server.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

// The message of the RedisError that the first command on `options` throws.
std::string connect_error(const tka::RedisOptions& options) {
    tka::RedisConnection redis(options);
    try {
        redis.command({"PING"});
    } catch (const tka::RedisError& e) {
        return e.what();
    }
    return "<connected>";
}

std::string at(const std::string& host, int port) {
    std::string out = host;
    out.append(":").append(std::to_string(port));
    return out;
}

// A loopback TCP listener that completes TCP handshakes (the kernel does) and never says
// anything: a TLS server that hangs in the handshake.
class SilentListener {
  public:
    SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        REQUIRE(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
        REQUIRE(::listen(fd_.get(), 8) == 0);
        REQUIRE(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        port_ = ntohs(addr.sin_port);
    }
    int port() const { return port_; }

  private:
    tka::Fd fd_;
    int port_ = 0;
};

}  // namespace

TEST_CASE("rediss:// with the right CA: commands, pipelines and blocking reads") {
    const tka::test::TestPki pki;
    tka::test::TlsRedisServer server(pki);
    tka::RedisOptions options = server.options();
    options.tls.cert_file.clear();  // no client certificate needed here
    options.tls.key_file.clear();
    tka::RedisConnection redis(options);

    CHECK(redis.command({"SET", "k", std::string("bin\0ary", 7)}).str == "OK");
    CHECK(redis.command({"GET", "k"}).str == std::string("bin\0ary", 7));
    CHECK(redis.command({"INCR", "k"}).is_error());
    const std::string big(300000, 'x');  // larger than any TLS record or socket buffer
    CHECK(redis.command({"SET", "big", big}).str == "OK");
    CHECK(redis.command({"GET", "big"}).str == big);
    auto replies = redis.pipeline({{"RPUSH", "l", "a", "b"}, {"LRANGE", "l", "0", "-1"}});
    REQUIRE(replies.size() == 2);
    CHECK(replies[1].elements.size() == 2);
    const auto none =
        redis.command_with_timeout({"XREAD", "BLOCK", "50", "STREAMS", "s", "$"}, 1000ms);
    CHECK(none.is_nil());

    SECTION("by host name: the certificate names localhost") {
        tka::RedisOptions by_name = options;
        by_name.endpoint =
            tka::parse_redis_url("rediss://localhost:" + std::to_string(server.port()));
        tka::RedisConnection named(by_name);
        CHECK(named.command({"GET", "k"}).str == std::string("bin\0ary", 7));
    }
    SECTION("the same connection object comes back after a restart") {
        server.stop();
        CHECK_THROWS_AS(redis.command({"PING"}), tka::RedisError);
        server.start();
        bool recovered = false;
        for (int i = 0; i < 100 && !recovered; ++i) {
            try {
                recovered = redis.command({"PING"}).str == "PONG";
            } catch (const tka::RedisError&) {
                std::this_thread::sleep_for(50ms);
            }
        }
        CHECK(recovered);
    }
}

TEST_CASE("a server certificate from another CA is refused with the reason") {
    const tka::test::TestPki pki;
    tka::test::TlsRedisServer server(pki);
    tka::RedisOptions options = server.options();
    options.tls.ca_file = pki.wrong_ca_cert();

    const std::string error = connect_error(options);
    CHECK_THAT(error, Contains("cannot connect to Redis at rediss://127.0.0.1:" +
                               std::to_string(server.port()) + "/0"));
    CHECK_THAT(error, Contains("TLS handshake with " + at("127.0.0.1", server.port()) +
                               " failed: certificate verify failed (self-signed certificate "
                               "in certificate chain)"));

    SECTION("insecure skips verification: the link is encrypted, the server unchecked") {
        options.tls.insecure = true;
        tka::RedisConnection redis(options);
        CHECK(redis.command({"PING"}).str == "PONG");
    }
}

TEST_CASE("the server certificate must name the host of the URL") {
    const tka::test::TestPki pki;
    tka::test::TlsRedisServer server(pki, {.other_name_cert = true});
    tka::RedisOptions options = server.options();

    CHECK_THAT(connect_error(options), Contains("certificate verify failed (IP address mismatch)"));
    options.endpoint = tka::parse_redis_url("rediss://localhost:" + std::to_string(server.port()));
    CHECK_THAT(connect_error(options), Contains("certificate verify failed (hostname mismatch)"));

    options.tls.insecure = true;
    tka::RedisConnection redis(options);
    CHECK(redis.command({"PING"}).str == "PONG");
}

TEST_CASE("mutual TLS: a client certificate is required and accepted") {
    const tka::test::TestPki pki;
    tka::test::TlsRedisServer server(pki, {.require_client_cert = true});

    tka::RedisConnection with_cert(server.options());
    CHECK(with_cert.command({"PING"}).str == "PONG");

    tka::RedisOptions without = server.options();
    without.tls.cert_file.clear();
    without.tls.key_file.clear();
    // TLS 1.3: the server refuses after the client's side of the handshake is done, so
    // the refusal comes with the first command.
    CHECK_THAT(connect_error(without),
               Contains("the server asked for a client certificate and none is configured"));
}

TEST_CASE("a plain-text Redis behind a rediss:// URL is a clear error") {
    const tka::test::TestPki pki;
    tka::test::RedisServer plain;
    tka::RedisOptions options = plain.options();
    options.endpoint = tka::parse_redis_url("rediss://127.0.0.1:" + std::to_string(plain.port()));
    options.tls.ca_file = pki.ca_cert();
    CHECK_THAT(connect_error(options),
               Contains("TLS handshake with " + at("127.0.0.1", plain.port()) +
                        " timed out (is it a TLS port?)"));
}

TEST_CASE("a server that never answers the handshake fails at the connect timeout") {
    const tka::test::TestPki pki;
    const SilentListener silent;
    tka::RedisOptions options;
    options.endpoint = tka::parse_redis_url("rediss://127.0.0.1:" + std::to_string(silent.port()));
    options.connect_timeout = 300ms;
    options.command_timeout = 60s;  // must not be the one that applies
    options.tls.ca_file = pki.ca_cert();
    CHECK_THAT(connect_error(options),
               Contains("TLS handshake with " + at("127.0.0.1", silent.port()) + " timed out"));
}

TEST_CASE("an unreadable CA file is a connect error naming the file") {
    tka::RedisOptions options;
    options.endpoint = tka::parse_redis_url("rediss://127.0.0.1:1");
    options.tls.ca_file = "/nonexistent/ca.pem";
    CHECK_THAT(connect_error(options), Contains("cannot load the CA file '/nonexistent/ca.pem'"));
}
