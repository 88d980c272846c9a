// tokend's configuration: the command line of DESIGN.md ("Command lines") plus the
// operational knobs, each flag also readable from a TOKEND_* environment variable (the
// flag wins). Parsing validates every value so a bad one stops tokend at start with a
// one-line message instead of failing later.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/redis_tls_options.hpp"
#include "common/redis_url.hpp"
#include "tokend/http_limits.hpp"
#include "tokend/throttle_options.hpp"

namespace tka::tokend {

inline constexpr const char* kDefaultProvider = "mosquitto-token-auth";

struct Config {
    std::string redis_url;      // as given (may hold a password: log redis.redacted())
    RedisEndpoint redis;        // parsed redis_url
    RedisTlsOptions redis_tls;  // --redis-tls-ca/-cert/-key/-insecure (rediss:// URLs)
    std::string listen_host;    // "127.0.0.1", "0.0.0.0", "::1" (no brackets)
    int listen_port = 0;        // 0: any free port (logged at start)
    std::string tls_cert;       // PEM file; TLS is on when both cert and key are set
    std::string tls_key;        // PEM file
    std::string provider = kDefaultProvider;  // "provider" field of token responses
    int threads = 32;      // Redis workers == Redis connections (blocking Redis calls run there)
    int io_threads = 2;    // threads running the event loop (accept, TLS, HTTP parsing)
    int queue_max = 1024;  // requests waiting for a Redis worker; beyond it 503 + Retry-After
    HttpLimits limits;
    int redis_timeout_ms = 500;    // Redis connect and command timeout, milliseconds
    int sweep_interval_ms = 1000;  // expiry sweep pass interval (expiry_sweeper.hpp); 0 = off
    double rate_limit = 0;         // requests per second per remote address; 0 = off
    double rate_burst = 0;         // bucket size; 0 = max(1, ceil(2 * rate_limit))
    ThrottleOptions throttle;      // failure throttling, allow-list, reverse proxies

    // Durability (common/replica_wait.hpp): WAIT for this many replicas after each write
    // (0: off), for at most redis_wait_ms milliseconds.
    int redis_wait_replicas = 0;
    int redis_wait_ms = 1000;

    // The operator dashboard's listener (docs/dashboard.md): off while admin_listen_host is
    // empty. TLS like the main listener (same certificate) when tls().
    std::string admin_listen_host;
    int admin_listen_port = 0;
    int admin_session_idle_seconds = 1800;  // a session unused this long ends
    int admin_session_max_seconds = 43200;  // a session ends this long after sign-in

    bool tls() const { return !tls_cert.empty(); }
    bool admin() const { return !admin_listen_host.empty(); }
    double effective_burst() const;
};

// What parsing decided: a config to run with, or an exit (--help: code 0 and the help
// text; an error: non-zero and a one-line message, no trailing newline).
struct ConfigResult {
    std::optional<Config> config;
    int exit_code = 0;
    std::string message;
};

ConfigResult parse_config(const std::vector<std::string>& args);  // args without argv[0]
ConfigResult parse_config(int argc, const char* const* argv);

// "HOST:PORT" or "[IPv6]:PORT" -> host and port; nullopt when malformed.
struct ListenAddress {
    std::string host;
    int port = 0;
};
std::optional<ListenAddress> parse_listen(const std::string& s);
// --admin-listen: parse_listen()'s forms, or a bare PORT meaning 127.0.0.1:PORT.
std::optional<ListenAddress> parse_admin_listen(const std::string& s);

}  // namespace tka::tokend
