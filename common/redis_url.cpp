// Owns the parsing of Redis URLs (redis_url.hpp) into a RedisEndpoint, and its redacted form.
// Forms: redis://[user:password@]host[:port][/db]    (rediss://: the same, over TLS)
//        unix://[user:password@]/path/to/redis.sock[?db=N]
//        redis+sentinel://[user:password@]host[:port][,host[:port]...]/master_name[/db]
//        (rediss+sentinel://: the same, TLS to every sentinel and to the master)
// User and password are percent-decoded; a user info without ':' is a password, as redis-cli
// reads it. Error messages name what is wrong but never quote the input: a mistyped URL can
// put part of the password anywhere, so no fragment of it is ever echoed.
#include "common/redis_url.hpp"

#include <climits>
#include <stdexcept>

#include "common/crypto.hpp"

namespace tka {
namespace {

constexpr int kDefaultPort = 6379;
constexpr int kDefaultSentinelPort = 26379;
constexpr std::string_view kTcpScheme = "redis";
constexpr std::string_view kTlsScheme = "rediss";
constexpr std::string_view kUnixScheme = "unix";
constexpr std::string_view kSentinelScheme = "redis+sentinel";
constexpr std::string_view kTlsSentinelScheme = "rediss+sentinel";
constexpr std::string_view kForms =
    "expected redis://host:port[/db], rediss://host:port[/db], "
    "unix:///path/to/redis.sock[?db=N] or "
    "redis[s]+sentinel://host:port[,host:port...]/master_name[/db]";

[[noreturn]] void fail(std::string_view what) {
    throw std::invalid_argument("invalid Redis URL: " + std::string(what));
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string percent_decode(std::string_view s, std::string_view field) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        const int hi = i + 2 < s.size() ? crypto::hex_digit_value(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? crypto::hex_digit_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            fail("invalid percent-encoding in the " + std::string(field));
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

// Keeps RFC 3986 unreserved characters, percent-encodes everything else.
std::string percent_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
        if (is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(kHex[b >> 4]);
            out.push_back(kHex[b & 0x0f]);
        }
    }
    return out;
}

// Sets username/password from "user:password", ":password" or "password" (redis-cli's
// reading); both percent-decoded.
void set_userinfo(std::string_view userinfo, RedisEndpoint& ep) {
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
        ep.password = percent_decode(userinfo, "password");
    } else {
        ep.username = percent_decode(userinfo.substr(0, colon), "user name");
        ep.password = percent_decode(userinfo.substr(colon + 1), "password");
    }
}

// Splits the user info (up to the last '@') off an authority; returns the rest.
std::string_view take_userinfo(std::string_view authority, RedisEndpoint& ep) {
    const std::size_t at = authority.rfind('@');
    if (at == std::string_view::npos) {
        return authority;
    }
    set_userinfo(authority.substr(0, at), ep);
    return authority.substr(at + 1);
}

// All characters after the authority must be free of '@': one there means the user info
// held an unencoded '/', '?' or '#', which cut the authority short.
void reject_at_after_authority(std::string_view tail) {
    if (tail.find('@') != std::string_view::npos) {
        fail(
            "'@' after the host: percent-encode reserved characters ('/', '?', '#', '@', ':') "
            "in the user name and password");
    }
}

int parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) {
        fail("port must be 1..65535");
    }
    int v = 0;
    for (const char c : s) {
        if (!is_digit(c)) {
            fail("port must be 1..65535");
        }
        v = v * 10 + (c - '0');
    }
    if (v < 1 || v > 65535) {
        fail("port must be 1..65535");
    }
    return v;
}

int parse_db(std::string_view s) {
    if (s.empty() || s.size() > 9) {  // 9 digits always fit in an int
        fail("db must be a non-negative integer");
    }
    int v = 0;
    for (const char c : s) {
        if (!is_digit(c)) {
            fail("db must be a non-negative integer");
        }
        v = v * 10 + (c - '0');
    }
    return v;
}

void check_host(std::string_view host) {
    if (host.empty()) {
        fail("missing host");
    }
    for (const char c : host) {
        if (!(is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_')) {
            fail("host contains invalid characters");
        }
    }
}

// "host", "host:port", "[v6]" or "[v6]:port".
std::pair<std::string, int> parse_host_port(std::string_view hp, int default_port) {
    std::string_view host;
    std::string_view port_part;  // what follows the host, ":port" or empty
    if (!hp.empty() && hp.front() == '[') {
        const std::size_t close = hp.find(']');
        if (close == std::string_view::npos) {
            fail("unterminated '[' in IPv6 host");
        }
        host = hp.substr(1, close - 1);
        if (host.empty()) {
            fail("missing host");
        }
        for (const char c : host) {
            if (!(is_hex(c) || c == ':' || c == '.')) {
                fail("IPv6 host contains invalid characters");
            }
        }
        port_part = hp.substr(close + 1);
    } else {
        const std::size_t colon = hp.find(':');
        host = hp.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_part = hp.substr(colon);
            if (port_part.find(':', 1) != std::string_view::npos) {
                fail("IPv6 hosts must be written in brackets, e.g. [::1]:6379");
            }
        }
        check_host(host);
    }
    if (port_part.empty()) {
        return {std::string(host), default_port};
    }
    if (port_part.front() != ':') {
        fail("unexpected characters after the host");
    }
    return {std::string(host), parse_port(port_part.substr(1))};
}

std::string host_for_url(const std::string& host) {
    return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

// redis://[user:password@]host[:port][/db]
void parse_tcp(std::string_view rest, RedisEndpoint& ep) {
    ep.kind = RedisEndpoint::Kind::tcp;
    const std::size_t end = rest.find_first_of("/?#");
    const std::string_view tail =
        end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    reject_at_after_authority(tail);
    const std::string_view hostport = take_userinfo(rest.substr(0, end), ep);
    auto [host, port] = parse_host_port(hostport, kDefaultPort);
    ep.host = std::move(host);
    ep.port = port;
    if (tail.find_first_of("?#") != std::string_view::npos) {
        fail(
            "query and fragment are not supported in redis:// and rediss:// URLs (the db goes "
            "in the path)");
    }
    if (tail.empty() || tail == "/") {
        ep.db = 0;
    } else {
        ep.db = parse_db(tail.substr(1));
    }
}

// unix://[user:password@]/path/to/redis.sock[?db=N]
void parse_unix(std::string_view rest, RedisEndpoint& ep) {
    ep.kind = RedisEndpoint::Kind::unix_socket;
    if (rest.find('#') != std::string_view::npos) {
        fail("fragment is not supported in unix:// URLs");
    }
    const std::size_t q = rest.find('?');
    const std::string_view before_query = rest.substr(0, q);
    const std::string_view query =
        q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
    const std::size_t slash = before_query.find('/');
    if (slash == std::string_view::npos) {
        fail("unix:// URLs take an absolute socket path, e.g. unix:///run/redis/redis.sock");
    }
    const std::string_view authority = before_query.substr(0, slash);
    if (!authority.empty()) {
        // Only user info may precede the path (no host): "user:password@".
        if (authority.back() != '@') {
            fail("unix:// URLs take an absolute socket path, e.g. unix:///run/redis/redis.sock");
        }
        set_userinfo(authority.substr(0, authority.size() - 1), ep);
    }
    const std::string_view path = before_query.substr(slash);
    if (path.size() < 2) {
        fail("missing socket path");
    }
    ep.path = std::string(path);
    ep.db = 0;
    std::string_view params = query;
    bool seen_db = false;
    while (q != std::string_view::npos) {
        const std::size_t amp = params.find('&');
        const std::string_view param = params.substr(0, amp);
        if (!param.starts_with("db=")) {
            fail("unsupported query parameter (only db=N is accepted)");
        }
        if (seen_db) {
            fail("db given more than once");
        }
        ep.db = parse_db(param.substr(3));
        seen_db = true;
        if (amp == std::string_view::npos) {
            break;
        }
        params = params.substr(amp + 1);
    }
}

// redis+sentinel://[user:password@]host[:port][,host[:port]...]/master_name[/db]
void parse_sentinel(std::string_view rest, RedisEndpoint& ep) {
    ep.kind = RedisEndpoint::Kind::sentinel;
    const std::size_t end = rest.find_first_of("/?#");
    const std::string_view tail =
        end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    reject_at_after_authority(tail);
    std::string_view hosts = take_userinfo(rest.substr(0, end), ep);
    if (hosts.empty()) {
        fail("missing sentinel host");
    }
    while (true) {
        const std::size_t comma = hosts.find(',');
        const std::string_view one = hosts.substr(0, comma);
        if (one.empty()) {
            fail("empty sentinel host in the comma-separated list");
        }
        ep.sentinels.push_back(parse_host_port(one, kDefaultSentinelPort));
        if (comma == std::string_view::npos) {
            break;
        }
        hosts = hosts.substr(comma + 1);
    }
    if (tail.find_first_of("?#") != std::string_view::npos) {
        fail("query and fragment are not supported in redis+sentinel:// URLs");
    }
    if (tail.size() < 2) {
        fail("missing master name (redis+sentinel://host:port/master_name[/db])");
    }
    const std::string_view path = tail.substr(1);
    const std::size_t slash = path.find('/');
    const std::string_view master = path.substr(0, slash);
    if (master.empty()) {
        fail("missing master name (redis+sentinel://host:port/master_name[/db])");
    }
    for (const char c : master) {
        if (!(is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_')) {
            fail("master name contains invalid characters");
        }
    }
    ep.master_name = std::string(master);
    ep.db = slash == std::string_view::npos ? 0 : parse_db(path.substr(slash + 1));
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

}  // namespace

std::string RedisEndpoint::redacted() const {
    std::string userinfo;
    if (!username.empty() || !password.empty()) {
        // "user:***@", ":***@", or "user:@" (the ':' keeps a lone user from reading as a
        // password when the redacted form is parsed again).
        userinfo = percent_encode(username) + ":" + (password.empty() ? "" : "***") + "@";
    }
    const std::string db_text = std::to_string(db);
    switch (kind) {
        case Kind::tcp:
            return std::string(tls ? "rediss://" : "redis://") + userinfo + host_for_url(host) +
                   ":" + std::to_string(port) + "/" + db_text;
        case Kind::unix_socket:
            return "unix://" + userinfo + path + "?db=" + db_text;
        case Kind::sentinel: {
            std::string hosts;
            for (const auto& [h, p] : sentinels) {
                if (!hosts.empty()) {
                    hosts += ",";
                }
                hosts += host_for_url(h) + ":" + std::to_string(p);
            }
            return std::string(tls ? "rediss+sentinel://" : "redis+sentinel://") + userinfo +
                   hosts + "/" + master_name + "/" + db_text;
        }
    }
    return "redis://?";  // unreachable: out-of-range Kind
}

RedisEndpoint parse_redis_url(std::string_view url) {
    const std::size_t sep = url.find("://");
    if (sep == std::string_view::npos) {
        fail(kForms);
    }
    const std::string scheme = lowercase(url.substr(0, sep));
    const std::string_view rest = url.substr(sep + 3);
    RedisEndpoint ep;
    if (scheme == kTcpScheme || scheme == kTlsScheme) {
        parse_tcp(rest, ep);
        ep.tls = scheme == kTlsScheme;
    } else if (scheme == kUnixScheme) {
        parse_unix(rest, ep);
    } else if (scheme == kSentinelScheme || scheme == kTlsSentinelScheme) {
        parse_sentinel(rest, ep);
        ep.tls = scheme == kTlsSentinelScheme;
    } else {
        fail(std::string("unsupported scheme; ") + std::string(kForms));
    }
    return ep;
}

}  // namespace tka
