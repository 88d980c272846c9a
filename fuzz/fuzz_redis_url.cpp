// Fuzz target for the Redis URL parser (common/redis_url.hpp), which every program runs on
// its configured URL and whose redacted() form goes into logs. The input is a URL; it is
// parsed as it is and once more with every "{pw}" replaced by a canary string, so that a
// password can be followed wherever the parser puts it. Beyond "no crash, no leak, no
// undefined behaviour", it checks:
//   - a rejection is std::invalid_argument, its message starts "invalid Redis URL: " and
//     never holds the canary (messages never quote the input);
//   - an accepted URL has a port in 1..65535, a non-negative db and what its kind needs
//     (a host, an absolute socket path, sentinels and a master name);
//   - redacted() never holds the canary when only the password holds it, and shows "***"
//     whenever there is a password;
//   - redacted() keeps the scheme (rediss:// stays TLS) and parses again to the same endpoint, with
//   "***" (or nothing) as password,
//     and redacts to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/redis_url.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using tka::RedisEndpoint;

constexpr std::string_view kMarker = "{pw}";
constexpr std::string_view kCanary = "Qx7canaryK3v";  // valid in every part of a URL
constexpr std::string_view kMessagePrefix = "invalid Redis URL: ";

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != std::string_view::npos;
}

std::string replace_marker(std::string_view input) {
    std::string out;
    std::size_t start = 0;
    for (std::size_t at = input.find(kMarker); at != std::string_view::npos;
         at = input.find(kMarker, start)) {
        out.append(input.substr(start, at - start)).append(kCanary);
        start = at + kMarker.size();
    }
    out.append(input.substr(start));
    return out;
}

// Every part of the endpoint but the password, as one text.
std::string public_parts(const RedisEndpoint& ep) {
    std::string out;
    out.append(ep.username).append(1, '\n').append(ep.host).append(1, '\n').append(ep.path);
    out.append(1, '\n').append(ep.master_name);
    for (const auto& [host, port] : ep.sentinels) {
        out.append(1, '\n').append(host);
    }
    return out;
}

bool same_except_password(const RedisEndpoint& a, const RedisEndpoint& b) {
    if (a.kind != b.kind || a.username != b.username || a.db != b.db || a.tls != b.tls) {
        return false;
    }
    switch (a.kind) {
        case RedisEndpoint::Kind::tcp:
            return a.host == b.host && a.port == b.port;
        case RedisEndpoint::Kind::unix_socket:
            return a.path == b.path;
        case RedisEndpoint::Kind::sentinel:
            return a.sentinels == b.sentinels && a.master_name == b.master_name;
    }
    return false;
}

void check_accepted(const RedisEndpoint& ep) {
    TKA_FUZZ_CHECK(ep.db >= 0);
    switch (ep.kind) {
        case RedisEndpoint::Kind::tcp:
            TKA_FUZZ_CHECK(!ep.host.empty());
            TKA_FUZZ_CHECK(ep.port >= 1 && ep.port <= 65535);
            break;
        case RedisEndpoint::Kind::unix_socket:
            TKA_FUZZ_CHECK(ep.path.size() >= 2 && ep.path.front() == '/');
            TKA_FUZZ_CHECK(!ep.tls);  // no TLS over unix sockets
            break;
        case RedisEndpoint::Kind::sentinel:
            TKA_FUZZ_CHECK(!ep.sentinels.empty() && !ep.master_name.empty());
            for (const auto& [host, port] : ep.sentinels) {
                TKA_FUZZ_CHECK(!host.empty() && port >= 1 && port <= 65535);
            }
            break;
    }

    const std::string redacted = ep.redacted();
    if (contains(ep.password, kCanary) && !contains(public_parts(ep), kCanary)) {
        TKA_FUZZ_CHECK(!contains(redacted, kCanary));
    }
    if (!ep.password.empty()) {
        TKA_FUZZ_CHECK(contains(redacted, "***"));
    }

    RedisEndpoint again;
    try {
        again = tka::parse_redis_url(redacted);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "redacted form rejected: %s\n", e.what());
        TKA_FUZZ_FAIL("the redacted form of an accepted URL parses");
    }
    TKA_FUZZ_CHECK(same_except_password(ep, again));
    TKA_FUZZ_CHECK(again.password == (ep.password.empty() ? "" : "***"));
    TKA_FUZZ_CHECK(again.redacted() == redacted);
}

void check(std::string_view url) {
    RedisEndpoint ep;
    try {
        ep = tka::parse_redis_url(url);
    } catch (const std::invalid_argument& e) {
        const std::string_view message = e.what();
        TKA_FUZZ_CHECK(message.substr(0, kMessagePrefix.size()) == kMessagePrefix);
        TKA_FUZZ_CHECK(!contains(message, kCanary));
        return;
    } catch (...) {
        TKA_FUZZ_FAIL("parse_redis_url throws only std::invalid_argument");
    }
    check_accepted(ep);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check(input);
    if (contains(input, kMarker)) {
        check(replace_marker(input));
    }
    return 0;
}
