// Command line and environment parsing for tokend (CLI11), and the value checks that
// CLI11 cannot express (URL, HOST:PORT, TLS file pairs).
#include "tokend/config.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <fstream>
#include <stdexcept>

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

namespace {

bool readable(const std::string& path) {
    std::ifstream in(path);
    return in.good();
}

// Checks done after CLI11 has filled `c`; returns an error message or "".
std::string finish(Config& c, const std::string& listen) {
    try {
        c.redis = parse_redis_url(c.redis_url);
    } catch (const std::exception& e) {
        return fmt::format("invalid --redis-url: {}", e.what());
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
    app.add_option("--threads", c.threads, "HTTP worker threads (and Redis connections)")
        ->envname("TOKEND_THREADS")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--redis-timeout-ms", c.redis_timeout_ms,
                   "Redis connect/command timeout in milliseconds")
        ->envname("TOKEND_REDIS_TIMEOUT_MS")
        ->check(CLI::Range(1, 60000))
        ->capture_default_str();
    app.add_option("--rate-limit", c.rate_limit,
                   "requests per second per remote address (0: no limit)")
        ->envname("TOKEND_RATE_LIMIT")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    app.add_option("--rate-burst", c.rate_burst,
                   "burst size of the per-address bucket (default: 2 x rate, at least 1)")
        ->envname("TOKEND_RATE_BURST")
        ->check(CLI::Range(0.0, 1e6));

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
    if (auto error = finish(c, listen); !error.empty()) {
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
