// Command line and environment parsing for tokend (CLI11), and the value checks that
// CLI11 cannot express (URL, HOST:PORT, TLS file pairs, Redis TLS settings).
#include "tokend/config.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "common/parse_int.hpp"
#include "common/replica_wait.hpp"

namespace tka::tokend {

double Config::effective_burst() const {
    if (rate_burst > 0) {
        return rate_burst;
    }
    return std::max(1.0, std::ceil(2 * rate_limit));
}

std::optional<ListenAddress> parse_listen(const std::string& s) {
    std::string host;
    std::string port_text;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
            return std::nullopt;
        }
        host = s.substr(1, close - 1);
        port_text = s.substr(close + 2);
    } else {
        auto colon = s.rfind(':');
        if (colon == std::string::npos || s.find(':') != colon) {
            return std::nullopt;
        }
        host = s.substr(0, colon);
        port_text = s.substr(colon + 1);
    }
    if (host.empty() || port_text.empty() || port_text.size() > 5) {
        return std::nullopt;
    }
    int port = 0;
    for (char c : port_text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        port = port * 10 + (c - '0');
    }
    if (port > 65535) {
        return std::nullopt;
    }
    return ListenAddress{host, port};
}

std::optional<ListenAddress> parse_admin_listen(const std::string& s) {
    if (s.find(':') == std::string::npos) {
        if (auto port = parse_int(s, 0, 65535)) {
            return ListenAddress{"127.0.0.1", static_cast<int>(*port)};
        }
        return std::nullopt;
    }
    return parse_listen(s);
}

namespace {

bool readable(const std::string& path) {
    std::ifstream in(path);
    return in.good();
}

// --redis-wait-replicas / --redis-wait-ms as typed (CLI11 only collects the strings; the
// one parser of common/ checks them). Returns an error message or "".
std::string finish_wait(Config& c, const std::string& replicas, const std::string& ms) {
    try {
        c.redis_wait_replicas = parse_wait_replicas("--redis-wait-replicas", replicas);
        c.redis_wait_ms = static_cast<int>(parse_wait_ms("--redis-wait-ms", ms).count());
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return {};
}

// The admin listener's flags as typed (the one integer parser of common/ checks them).
// Returns an error message or "".
std::string finish_admin(Config& c, const std::string& listen, const std::string& idle,
                         const std::string& max) {
    if (!listen.empty()) {
        auto addr = parse_admin_listen(listen);
        if (!addr) {
            return fmt::format(
                "invalid --admin-listen '{}': expected HOST:PORT or PORT, e.g. 127.0.0.1:8081",
                listen);
        }
        c.admin_listen_host = addr->host;
        c.admin_listen_port = addr->port;
    }
    constexpr std::int64_t kMaxSessionSeconds = 30LL * 24 * 3600;
    auto i = parse_int(idle, 1, kMaxSessionSeconds);
    if (!i) {
        return fmt::format(
            "invalid --admin-session-idle-seconds '{}': expected whole seconds from 1 to {}", idle,
            kMaxSessionSeconds);
    }
    auto m = parse_int(max, 1, kMaxSessionSeconds);
    if (!m) {
        return fmt::format(
            "invalid --admin-session-max-seconds '{}': expected whole seconds from 1 to {}", max,
            kMaxSessionSeconds);
    }
    c.admin_session_idle_seconds = static_cast<int>(*i);
    c.admin_session_max_seconds = static_cast<int>(*m);
    return {};
}

// Checks done after CLI11 has filled `c`; returns an error message or "".
std::string finish(Config& c, const std::string& listen) {
    try {
        c.redis = parse_redis_url(c.redis_url);
    } catch (const std::exception& e) {
        return fmt::format("invalid --redis-url: {}", e.what());
    }
    if (auto error = check_redis_tls(c.redis_tls, c.redis,
                                     {"--redis-tls-ca", "--redis-tls-cert", "--redis-tls-key",
                                      "--redis-tls-insecure", "--redis-url"});
        !error.empty()) {
        return error;
    }
    auto addr = parse_listen(listen);
    if (!addr) {
        return fmt::format("invalid --listen '{}': expected HOST:PORT, e.g. 127.0.0.1:8080",
                           listen);
    }
    c.listen_host = addr->host;
    c.listen_port = addr->port;
    if (c.tls_cert.empty() != c.tls_key.empty()) {
        return "--tls-cert and --tls-key must be given together";
    }
    if (!c.tls_cert.empty() && !readable(c.tls_cert)) {
        return fmt::format("cannot read --tls-cert file '{}'", c.tls_cert);
    }
    if (!c.tls_key.empty() && !readable(c.tls_key)) {
        return fmt::format("cannot read --tls-key file '{}'", c.tls_key);
    }
    if (c.provider.empty() || c.provider.size() > 128) {
        return "--provider must be 1 to 128 characters";
    }
    return {};
}

// The throttling checks that CLI11 cannot express: address lists, the header name, and
// flags that only make sense together. Returns an error message or "".
std::string finish_throttle(ThrottleOptions& t, const std::vector<std::string>& allow_text,
                            const std::vector<std::string>& proxy_text) {
    if (t.auth_fail_max_penalty_s < t.auth_fail_penalty_s) {
        return "--auth-fail-max-penalty-s must not be below --auth-fail-penalty-s";
    }
    auto allow = IpRangeSet::parse(allow_text);
    if (auto* error = std::get_if<std::string>(&allow)) {
        return fmt::format("invalid --throttle-allow: {}", *error);
    }
    t.allow = std::get<IpRangeSet>(std::move(allow));
    auto proxies = IpRangeSet::parse(proxy_text);
    if (auto* error = std::get_if<std::string>(&proxies)) {
        return fmt::format("invalid --trusted-proxy: {}", *error);
    }
    t.proxy.trusted_proxies = std::get<IpRangeSet>(std::move(proxies));
    if (!t.proxy.header.empty() && !valid_header_name(t.proxy.header)) {
        return "invalid --client-address-header: expected a header name such as "
               "X-Forwarded-For";
    }
    if (t.proxy.header.empty() != t.proxy.trusted_proxies.empty()) {
        return "--trusted-proxy and --client-address-header must be given together";
    }
    return {};
}

// CLI11 reads "nan" and "inf" as numbers and a NaN passes every Range check.
const CLI::Validator finite_number(
    [](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) {
            return "must be a finite number, got '" + text + "'";
        }
        return {};
    },
    "NUMBER");

}  // namespace

ConfigResult parse_config(const std::vector<std::string>& args) {
    Config c;
    std::string listen;
    CLI::App app{"tokend: mints, refreshes and revokes short-lived MQTT tokens over HTTP(S)",
                 "tokend"};
    app.set_version_flag("--version", std::string("tokend ") + TKA_VERSION,
                         "print the version and exit");
    app.add_option("--redis-url", c.redis_url,
                   "redis://[user:password@]host:port[/db], unix:///path, redis+sentinel://...")
        ->envname("TOKEND_REDIS_URL")
        ->required();
    app.add_option("--listen", listen, "HOST:PORT to listen on, e.g. 127.0.0.1:8080")
        ->envname("TOKEND_LISTEN")
        ->required();
    app.add_option("--tls-cert", c.tls_cert, "PEM certificate (chain); enables HTTPS")
        ->envname("TOKEND_TLS_CERT");
    app.add_option("--tls-key", c.tls_key, "PEM private key for --tls-cert")
        ->envname("TOKEND_TLS_KEY");
    app.add_option("--provider", c.provider, "value of \"provider\" in token responses")
        ->envname("TOKEND_PROVIDER")
        ->capture_default_str();
    app.add_option("--threads", c.threads,
                   "Redis workers: threads that run requests needing Redis, one connection each")
        ->envname("TOKEND_THREADS")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--redis-timeout-ms", c.redis_timeout_ms,
                   "Redis connect/command timeout in milliseconds")
        ->envname("TOKEND_REDIS_TIMEOUT_MS")
        ->check(CLI::Range(1, 60000))
        ->capture_default_str();
    app.add_option("--redis-tls-ca", c.redis_tls.ca_file,
                   "PEM CA bundle that signs Redis's certificate (rediss://; default: the "
                   "system's trust store)")
        ->envname("TOKEND_REDIS_TLS_CA");
    app.add_option("--redis-tls-cert", c.redis_tls.cert_file,
                   "PEM client certificate for Redis (mutual TLS); needs --redis-tls-key")
        ->envname("TOKEND_REDIS_TLS_CERT");
    app.add_option("--redis-tls-key", c.redis_tls.key_file, "PEM private key of --redis-tls-cert")
        ->envname("TOKEND_REDIS_TLS_KEY");
    app.add_flag("--redis-tls-insecure", c.redis_tls.insecure,
                 "do not verify Redis's certificate nor its name (testing only)")
        ->envname("TOKEND_REDIS_TLS_INSECURE");
    std::string wait_replicas = std::to_string(c.redis_wait_replicas);
    std::string wait_ms = std::to_string(c.redis_wait_ms);
    app.add_option("--redis-wait-replicas", wait_replicas,
                   "after each write, wait until this many replicas hold it (Redis WAIT), "
                   "else answer 503 (0: do not wait)")
        ->envname("TOKEND_REDIS_WAIT_REPLICAS")
        ->type_name("N")
        ->capture_default_str();
    app.add_option("--redis-wait-ms", wait_ms,
                   "how long --redis-wait-replicas waits for the replicas, milliseconds")
        ->envname("TOKEND_REDIS_WAIT_MS")
        ->type_name("MS")
        ->capture_default_str();
    app.add_option("--sweep-interval-ms", c.sweep_interval_ms,
                   "milliseconds between passes of the expiry sweep over all organizations "
                   "(0: off; creates still sweep their own organization)")
        ->envname("TOKEND_SWEEP_INTERVAL_MS")
        ->check(CLI::Range(0, 3600000))
        ->capture_default_str();
    app.add_option("--rate-limit", c.rate_limit,
                   "requests per second per remote address (0: no limit)")
        ->envname("TOKEND_RATE_LIMIT")
        ->check(finite_number)
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    app.add_option("--rate-burst", c.rate_burst,
                   "burst size of the per-address bucket (default: 2 x rate, at least 1)")
        ->envname("TOKEND_RATE_BURST")
        ->check(finite_number)
        ->check(CLI::Range(0.0, 1e6));

    app.add_option("--io-threads", c.io_threads,
                   "event-loop threads (accept, TLS, HTTP parsing; never wait on Redis)")
        ->envname("TOKEND_IO_THREADS")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--queue-max", c.queue_max,
                   "requests waiting for a Redis worker; beyond it 503 with Retry-After")
        ->envname("TOKEND_QUEUE_MAX")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();

    // The HTTP limits (tokend/http_limits.hpp), in milliseconds and bytes.
    HttpLimits& l = c.limits;
    std::int64_t header_ms = l.header_timeout.count();
    std::int64_t body_ms = l.body_timeout.count();
    std::int64_t idle_ms = l.idle_timeout.count();
    std::int64_t write_ms = l.write_timeout.count();
    auto add_ms = [&](const char* name, std::int64_t& value, const char* env, const char* what) {
        app.add_option(name, value, what)
            ->envname(env)
            ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600} * 1000))
            ->capture_default_str();
    };
    auto add_count = [&](const char* name, std::size_t& value, const char* env, const char* what,
                         std::size_t min, std::size_t max) {
        app.add_option(name, value, what)
            ->envname(env)
            ->check(CLI::Range(min, max))
            ->capture_default_str();
    };
    add_ms("--header-timeout-ms", header_ms, "TOKEND_HEADER_TIMEOUT_MS",
           "absolute time to receive a request's header, from its first byte (408)");
    add_ms("--body-timeout-ms", body_ms, "TOKEND_BODY_TIMEOUT_MS",
           "absolute time to receive a request's body after its header (408)");
    add_ms("--idle-timeout-ms", idle_ms, "TOKEND_IDLE_TIMEOUT_MS",
           "close a kept-alive connection idle for this long");
    add_ms("--write-timeout-ms", write_ms, "TOKEND_WRITE_TIMEOUT_MS",
           "close a connection that does not take its response within this time");
    add_count("--max-header-bytes", l.max_header_bytes, "TOKEND_MAX_HEADER_BYTES",
              "request line and header fields, bytes (431 beyond)", 256, 1024 * 1024);
    add_count("--max-header-fields", l.max_header_fields, "TOKEND_MAX_HEADER_FIELDS",
              "header fields per request (431 beyond)", 1, 10000);
    add_count("--max-body-bytes", l.max_body_bytes, "TOKEND_MAX_BODY_BYTES",
              "request body, bytes (413 beyond, answered after the header)", 1, 16 * 1024 * 1024);
    add_count("--max-connections", l.max_connections, "TOKEND_MAX_CONNECTIONS",
              "open connections in total (503 and closed beyond)", 1, 10000000);
    add_count("--max-connections-per-address", l.max_connections_per_address,
              "TOKEND_MAX_CONNECTIONS_PER_ADDRESS",
              "open connections per client address (503 and closed beyond)", 1, 10000000);
    add_count("--max-requests-per-connection", l.max_requests_per_connection,
              "TOKEND_MAX_REQUESTS_PER_CONNECTION",
              "requests on one kept-alive connection before it is closed", 1, 100000000);

    // Failure throttling (tokend/auth_throttle.hpp), its allow-list and the reverse proxies
    // whose client-address header is believed (tokend/client_address.hpp).
    ThrottleOptions& t = c.throttle;
    std::vector<std::string> allow_text;
    std::vector<std::string> proxy_text;
    app.add_option("--auth-fail-threshold", t.auth_fail_threshold,
                   "failure score of a client address above which it is blocked (0: off)")
        ->envname("TOKEND_AUTH_FAIL_THRESHOLD")
        ->check(CLI::Range(0, 1000000))
        ->capture_default_str();
    app.add_option("--auth-fail-halflife-s", t.auth_fail_halflife_s,
                   "seconds for a failure score to halve")
        ->envname("TOKEND_AUTH_FAIL_HALFLIFE_S")
        ->check(finite_number)
        ->check(CLI::Range(0.001, 86400.0))
        ->capture_default_str();
    app.add_option("--auth-fail-penalty-s", t.auth_fail_penalty_s,
                   "first block in seconds; doubles with each further block")
        ->envname("TOKEND_AUTH_FAIL_PENALTY_S")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    app.add_option("--auth-fail-max-penalty-s", t.auth_fail_max_penalty_s,
                   "longest block in seconds")
        ->envname("TOKEND_AUTH_FAIL_MAX_PENALTY_S")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    app.add_option("--org-fail-threshold", t.org_fail_threshold,
                   "failure score of an organization above which its failing addresses are "
                   "blocked (0: off)")
        ->envname("TOKEND_ORG_FAIL_THRESHOLD")
        ->check(CLI::Range(0, 1000000))
        ->capture_default_str();
    app.add_option("--throttle-allow", allow_text,
                   "CIDR[,CIDR...]: addresses never throttled nor rate limited (repeatable)")
        ->envname("TOKEND_THROTTLE_ALLOW")
        ->allow_extra_args(false);
    app.add_option("--trusted-proxy", proxy_text,
                   "CIDR[,CIDR...]: reverse proxies whose --client-address-header is believed "
                   "(repeatable)")
        ->envname("TOKEND_TRUSTED_PROXY")
        ->allow_extra_args(false);
    app.add_option("--client-address-header", t.proxy.header,
                   "header naming the client behind a trusted proxy, e.g. X-Forwarded-For")
        ->envname("TOKEND_CLIENT_ADDRESS_HEADER");

    // The operator dashboard (docs/dashboard.md).
    std::string admin_listen;
    std::string admin_idle = std::to_string(c.admin_session_idle_seconds);
    std::string admin_max = std::to_string(c.admin_session_max_seconds);
    app.add_option("--admin-listen", admin_listen,
                   "HOST:PORT (or PORT: 127.0.0.1) of the operator dashboard and its JSON API "
                   "under /admin/api/; off unless given; HTTPS with --tls-cert")
        ->envname("TOKEND_ADMIN_LISTEN");
    app.add_option("--admin-session-idle-seconds", admin_idle,
                   "a dashboard session unused for this long ends")
        ->envname("TOKEND_ADMIN_SESSION_IDLE_SECONDS")
        ->type_name("SECONDS")
        ->capture_default_str();
    app.add_option("--admin-session-max-seconds", admin_max,
                   "a dashboard session ends this long after sign-in, however used")
        ->envname("TOKEND_ADMIN_SESSION_MAX_SECONDS")
        ->type_name("SECONDS")
        ->capture_default_str();

    // CLI11 wants argv-style input; it parses a reversed vector.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        return {std::nullopt, 0, app.help()};
    } catch (const CLI::CallForVersion& e) {
        return {std::nullopt, 0, std::string(e.what()) + "\n"};
    } catch (const CLI::ParseError& e) {
        return {std::nullopt, 2, e.what()};
    }
    l.header_timeout = HttpLimits::ms(header_ms);
    l.body_timeout = HttpLimits::ms(body_ms);
    l.idle_timeout = HttpLimits::ms(idle_ms);
    l.write_timeout = HttpLimits::ms(write_ms);
    if (auto error = finish(c, listen); !error.empty()) {
        return {std::nullopt, 2, error};
    }
    if (auto error = finish_wait(c, wait_replicas, wait_ms); !error.empty()) {
        return {std::nullopt, 2, error};
    }
    if (auto error = finish_throttle(t, allow_text, proxy_text); !error.empty()) {
        return {std::nullopt, 2, error};
    }
    if (auto error = finish_admin(c, admin_listen, admin_idle, admin_max); !error.empty()) {
        return {std::nullopt, 2, error};
    }
    return {c, 0, {}};
}

ConfigResult parse_config(int argc, const char* const* argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        args.emplace_back(argv[i]);
    }
    return parse_config(args);
}

}  // namespace tka::tokend
