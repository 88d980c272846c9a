// Unit tests of common/redis_url: the URL forms (and their TLS variants) with their defaults,
// percent-decoding of credentials, the redacted form, and clear errors that never contain the
// password.
#include "common/redis_url.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using tka::parse_redis_url;
using tka::RedisEndpoint;
using Kind = tka::RedisEndpoint::Kind;

namespace {

// The message of the std::invalid_argument that parse_redis_url throws for `url`.
std::string error_of(const std::string& url) {
    try {
        parse_redis_url(url);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("redis:// URLs", "[redis_url]") {
    auto [url, host, port, user, password, db] =
        GENERATE(table<std::string, std::string, int, std::string, std::string, int>({
            {"redis://127.0.0.1:6379", "127.0.0.1", 6379, "", "", 0},
            {"redis://localhost", "localhost", 6379, "", "", 0},
            {"redis://localhost/", "localhost", 6379, "", "", 0},
            {"redis://redis.internal:7000/3", "redis.internal", 7000, "", "", 3},
            {"redis://cache_01.example-dc.net:1/15", "cache_01.example-dc.net", 1, "", "", 15},
            {"redis://h:65535/0", "h", 65535, "", "", 0},
            {"redis://alice:s3cret@h:6380/2", "h", 6380, "alice", "s3cret", 2},
            {"redis://:s3cret@h:6380", "h", 6380, "", "s3cret", 0},
            {"redis://s3cret@h", "h", 6379, "", "s3cret", 0},  // redis-cli: no ':' = password
            {"redis://alice:@h", "h", 6379, "alice", "", 0},
            {"redis://al%40ice:p%3Ass%2Fw%40rd%25@h", "h", 6379, "al@ice", "p:ss/w@rd%", 0},
            {"redis://u:p%20w@h", "h", 6379, "u", "p w", 0},
            {"redis://u:a:b@h", "h", 6379, "u", "a:b", 0},    // first ':' splits user/password
            {"redis://u:p@ss@h", "h", 6379, "u", "p@ss", 0},  // last '@' ends the user info
            {"REDIS://h:1234/1", "h", 1234, "", "", 1},
            {"redis://[::1]:6390/4", "::1", 6390, "", "", 4},
            {"redis://[::1]", "::1", 6379, "", "", 0},
            {"redis://u:p@[fe80::1]:7/0", "fe80::1", 7, "u", "p", 0},
            {"redis://h/123456789", "h", 6379, "", "", 123456789},
        }));
    CAPTURE(url);
    const RedisEndpoint ep = parse_redis_url(url);
    CHECK(ep.kind == Kind::tcp);
    CHECK(ep.host == host);
    CHECK(ep.port == port);
    CHECK(ep.username == user);
    CHECK(ep.password == password);
    CHECK(ep.db == db);
    CHECK(ep.path.empty());
    CHECK(ep.sentinels.empty());
    CHECK_FALSE(ep.tls);
}

TEST_CASE("rediss:// URLs are redis:// over TLS", "[redis_url]") {
    auto [url, host, port, user, password, db] =
        GENERATE(table<std::string, std::string, int, std::string, std::string, int>({
            {"rediss://127.0.0.1:6390", "127.0.0.1", 6390, "", "", 0},
            {"rediss://cache.example.com", "cache.example.com", 6379, "", "", 0},
            {"REDISS://h:1234/1", "h", 1234, "", "", 1},
            {"rediss://default:s3cret@[::1]:6380/2", "::1", 6380, "default", "s3cret", 2},
        }));
    CAPTURE(url);
    const RedisEndpoint ep = parse_redis_url(url);
    CHECK(ep.kind == Kind::tcp);
    CHECK(ep.tls);
    CHECK(ep.host == host);
    CHECK(ep.port == port);
    CHECK(ep.username == user);
    CHECK(ep.password == password);
    CHECK(ep.db == db);
}

TEST_CASE("rediss+sentinel:// URLs are redis+sentinel:// over TLS", "[redis_url]") {
    const RedisEndpoint ep = parse_redis_url("rediss+sentinel://u:pw@s1:5000,s2/mymaster/3");
    CHECK(ep.kind == Kind::sentinel);
    CHECK(ep.tls);
    CHECK(ep.sentinels == std::vector<std::pair<std::string, int>>{{"s1", 5000}, {"s2", 26379}});
    CHECK(ep.master_name == "mymaster");
    CHECK(ep.db == 3);
    CHECK_FALSE(parse_redis_url("redis+sentinel://s1/m").tls);
    CHECK_FALSE(parse_redis_url("unix:///tmp/r.sock").tls);
}

TEST_CASE("unix:// URLs", "[redis_url]") {
    auto [url, path, user, password, db] =
        GENERATE(table<std::string, std::string, std::string, std::string, int>({
            {"unix:///run/redis/redis.sock", "/run/redis/redis.sock", "", "", 0},
            {"unix:///tmp/r.sock?db=5", "/tmp/r.sock", "", "", 5},
            {"unix:///tmp/r.sock?db=0", "/tmp/r.sock", "", "", 0},
            {"unix://:pw@/tmp/r.sock?db=2", "/tmp/r.sock", "", "pw", 2},
            {"unix://bob:p%26w@/tmp/r.sock", "/tmp/r.sock", "bob", "p&w", 0},
            {"unix:///var/run/redis-6379/redis.sock", "/var/run/redis-6379/redis.sock", "", "", 0},
        }));
    CAPTURE(url);
    const RedisEndpoint ep = parse_redis_url(url);
    CHECK(ep.kind == Kind::unix_socket);
    CHECK(ep.path == path);
    CHECK(ep.username == user);
    CHECK(ep.password == password);
    CHECK(ep.db == db);
}

TEST_CASE("redis+sentinel:// URLs", "[redis_url]") {
    using Hosts = std::vector<std::pair<std::string, int>>;
    auto [url, sentinels, master, user, password, db] =
        GENERATE(table<std::string, Hosts, std::string, std::string, std::string, int>({
            {"redis+sentinel://s1:26379/mymaster", Hosts{{"s1", 26379}}, "mymaster", "", "", 0},
            {"redis+sentinel://s1/mymaster", Hosts{{"s1", 26379}}, "mymaster", "", "", 0},
            {"redis+sentinel://s1:5000,s2,10.0.0.3:5002/main-1/7",
             Hosts{{"s1", 5000}, {"s2", 26379}, {"10.0.0.3", 5002}}, "main-1", "", "", 7},
            {"redis+sentinel://u:p%2Fw@s1:26379,[::1]:26380/m_x.y/1",
             Hosts{{"s1", 26379}, {"::1", 26380}}, "m_x.y", "u", "p/w", 1},
            {"redis+sentinel://:pw@s1/m", Hosts{{"s1", 26379}}, "m", "", "pw", 0},
        }));
    CAPTURE(url);
    const RedisEndpoint ep = parse_redis_url(url);
    CHECK(ep.kind == Kind::sentinel);
    CHECK(ep.sentinels == sentinels);
    CHECK(ep.master_name == master);
    CHECK(ep.username == user);
    CHECK(ep.password == password);
    CHECK(ep.db == db);
}

TEST_CASE("invalid URLs are rejected with a message naming the problem", "[redis_url]") {
    auto [url, fragment] = GENERATE(table<std::string, std::string>({
        {"", "expected redis://"},
        {"localhost:6379", "expected redis://"},
        {"http://localhost:6379", "unsupported scheme"},
        {"rediss://", "missing host"},
        {"rediss://h:6379?db=1", "query and fragment are not supported"},
        {"rediss+sentinel://s1", "missing master name"},
        {"redis+tls://h", "unsupported scheme"},
        {"redis://", "missing host"},
        {"redis://:6379", "missing host"},
        {"redis://u:p@", "missing host"},
        {"redis://h:0", "port must be 1..65535"},
        {"redis://h:65536", "port must be 1..65535"},
        {"redis://h:99999999999", "port must be 1..65535"},
        {"redis://h:", "port must be 1..65535"},
        {"redis://h:-1", "port must be 1..65535"},
        {"redis://h:+80", "port must be 1..65535"},
        {"redis://h:6379x", "port must be 1..65535"},
        {"redis://h:63 79", "port must be 1..65535"},
        {"redis://h:6379/x", "db must be a non-negative integer"},
        {"redis://h:6379/-1", "db must be a non-negative integer"},
        {"redis://h:6379/1/2", "db must be a non-negative integer"},
        {"redis://h:6379/1234567890", "db must be a non-negative integer"},
        {"redis://h:6379?db=1", "query and fragment are not supported"},
        {"redis://h:6379/0#frag", "query and fragment are not supported"},
        {"redis://h st:6379", "host contains invalid characters"},
        {"redis://::1:6379", "IPv6 hosts must be written in brackets"},
        {"redis://[::1:6379", "unterminated '['"},
        {"redis://[]:6379", "missing host"},
        {"redis://[::g]:6379", "IPv6 host contains invalid characters"},
        {"redis://[::1]x:6379", "unexpected characters after the host"},
        {"redis://u:p%zz@h", "invalid percent-encoding in the password"},
        {"redis://u:p%4@h", "invalid percent-encoding in the password"},
        {"redis://u%:p@h", "invalid percent-encoding in the user name"},
        {"unix://", "absolute socket path"},
        {"unix://relative/path.sock", "absolute socket path"},
        {"unix://localhost/tmp/r.sock", "absolute socket path"},
        {"unix:///", "missing socket path"},
        {"unix:///tmp/r.sock?db=x", "db must be a non-negative integer"},
        {"unix:///tmp/r.sock?db=", "db must be a non-negative integer"},
        {"unix:///tmp/r.sock?db=1&db=2", "db given more than once"},
        {"unix:///tmp/r.sock?timeout=5", "unsupported query parameter"},
        {"unix:///tmp/r.sock?", "unsupported query parameter"},
        {"unix:///tmp/r.sock#x", "fragment is not supported"},
        {"redis+sentinel://", "missing sentinel host"},
        {"redis+sentinel://s1:26379", "missing master name"},
        {"redis+sentinel://s1:26379/", "missing master name"},
        {"redis+sentinel://s1:26379//1", "missing master name"},
        {"redis+sentinel://s1,,s2/m", "empty sentinel host"},
        {"redis+sentinel://s1,/m", "empty sentinel host"},
        {"redis+sentinel://s1:0/m", "port must be 1..65535"},
        {"redis+sentinel://s1/m/x", "db must be a non-negative integer"},
        {"redis+sentinel://s1/m$/1", "master name contains invalid characters"},
        {"redis+sentinel://s1/m?db=1", "query and fragment are not supported"},
    }));
    CAPTURE(url);
    const std::string message = error_of(url);
    CHECK(message.starts_with("invalid Redis URL: "));
    CHECK_THAT(message, Catch::Matchers::Contains(fragment));
}

TEST_CASE("error messages never contain the password", "[redis_url]") {
    // Each URL carries the password "Hunter2xyz" and is broken somewhere, including in ways
    // that make the parser misread where the password ends (unencoded '/', '?', '#').
    const std::string url = GENERATE(
        as<std::string>{}, "redis://u:Hunter2xyz@h:0", "redis://u:Hunter2xyz@h:abc/1",
        "redis://u:Hunter2xyz@h/notadb", "redis://u:Hunter2xyz@", "redis://u:Hunter2xyz%G0@h",
        "redis://u:Hunter2xyz%@h", "redis://u:Hunt/er2xyz@h:6379", "redis://u:Hunt?er2xyz@h:6379",
        "redis://u:Hunt#er2xyz@h:6379", "redis://u:Hunter2xyz:6379", "redis://u:Hunter2xyz@h st",
        "rediss://u:Hunter2xyz@h:0", "rediss+sentinel://u:Hunter2xyz@s1", "http://u:Hunter2xyz@h",
        "Hunter2xyz", "unix://u:Hunter2xyz/tmp/r.sock",
        "unix://u:Hunter2xyz@/tmp/r.sock?password=Hunter2xyz", "unix:///tmp/r.sock?Hunter2xyz",
        "redis+sentinel://u:Hunter2xyz@s1:1", "redis+sentinel://u:Hunt/er2xyz@s1/m",
        "redis+sentinel://u:Hunter2xyz@s1/m/x");
    CAPTURE(url);
    const std::string message = error_of(url);
    CHECK(message.starts_with("invalid Redis URL: "));
    CHECK(message.find("Hunter2xyz") == std::string::npos);
    CHECK(message.find("Hunt") == std::string::npos);
    CHECK(message.find("er2xyz") == std::string::npos);
}

TEST_CASE("redacted() hides the password and shows everything else", "[redis_url]") {
    auto [url, redacted] = GENERATE(table<std::string, std::string>({
        {"redis://alice:s3cret@h:6380/2", "redis://alice:***@h:6380/2"},
        {"redis://:s3cret@h", "redis://:***@h:6379/0"},
        {"redis://h", "redis://h:6379/0"},
        {"redis://al%40ice:s3cret@h", "redis://al%40ice:***@h:6379/0"},
        {"redis://alice:@h", "redis://alice:@h:6379/0"},
        {"redis://[::1]:6390/4", "redis://[::1]:6390/4"},
        {"unix:///run/redis.sock", "unix:///run/redis.sock?db=0"},
        {"unix://:s3cret@/run/redis.sock?db=3", "unix://:***@/run/redis.sock?db=3"},
        {"redis+sentinel://u:s3cret@s1,s2:5000/mymaster/1",
         "redis+sentinel://u:***@s1:26379,s2:5000/mymaster/1"},
        {"redis+sentinel://[::1]/m", "redis+sentinel://[::1]:26379/m/0"},
        {"rediss://alice:s3cret@h:6390/2", "rediss://alice:***@h:6390/2"},
        {"rediss+sentinel://:s3cret@s1/m", "rediss+sentinel://:***@s1:26379/m/0"},
    }));
    CAPTURE(url);
    const RedisEndpoint ep = parse_redis_url(url);
    CHECK(ep.redacted() == redacted);
    CHECK(ep.redacted().find("s3cret") == std::string::npos);
}

TEST_CASE("the redacted form parses back to the same endpoint", "[redis_url]") {
    const std::string url =
        GENERATE(as<std::string>{}, "redis://alice:pw@db.example:7000/9", "redis://h",
                 "redis://alice:@h", "redis://[fe80::1]:1/1", "unix://:pw@/tmp/x.sock?db=4",
                 "redis+sentinel://u:pw@a:1,b:2,[::1]:3/master/5", "rediss://u:pw@h:6390/1",
                 "rediss+sentinel://a:1/m");
    CAPTURE(url);
    const RedisEndpoint original = parse_redis_url(url);
    const RedisEndpoint again = parse_redis_url(original.redacted());
    CHECK(again.kind == original.kind);
    CHECK(again.host == original.host);
    CHECK(again.port == original.port);
    CHECK(again.path == original.path);
    CHECK(again.sentinels == original.sentinels);
    CHECK(again.master_name == original.master_name);
    CHECK(again.username == original.username);
    CHECK(again.db == original.db);
    CHECK(again.tls == original.tls);
    CHECK(again.password == (original.password.empty() ? "" : "***"));
}

TEST_CASE("a default-constructed endpoint is local Redis db 0", "[redis_url]") {
    const RedisEndpoint ep;
    CHECK(ep.kind == Kind::tcp);
    CHECK(ep.redacted() == "redis://127.0.0.1:6379/0");
}
