// Option parsing: defaults, every option's good and bad values, the error messages.
#include <catch2/catch.hpp>

#include "plugin/options.hpp"
#include "plugin/token_auth_plugin.hpp"
#include "tests/support/temp_dir.hpp"

using tka::plugin::AclDefault;
using tka::plugin::LogLevel;
using tka::plugin::OptionError;
using tka::plugin::parse_options;
using Pairs = std::vector<std::pair<std::string, std::string>>;

namespace {
std::string error_of(const Pairs& pairs) {
    try {
        parse_options(pairs);
    } catch (const OptionError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("options: defaults without any plugin_opt line", "[plugin][options]") {
    const auto c = parse_options({});
    CHECK(c.redis_url == "redis://127.0.0.1:6379");
    CHECK(c.redis_endpoint.host == "127.0.0.1");
    CHECK(c.redis_endpoint.port == 6379);
    CHECK(c.redis_timeout.count() == 200);
    // Confined to the organization's namespace in both directions.
    CHECK(c.acl_default == AclDefault::org);
    CHECK(c.acl_read == std::vector<std::string>{"orgs/%o/#"});
    CHECK(c.acl_write == std::vector<std::string>{"orgs/%o/#"});
    CHECK(c.log_level == LogLevel::notice);
    CHECK(c.sys_interval.count() == 10);
}

TEST_CASE("options: acl_default", "[plugin][options]") {
    SECTION("none: directions without patterns are not restricted") {
        const auto c = parse_options({{"acl_default", "None"}});
        CHECK(c.acl_default == AclDefault::none);
        CHECK(c.acl_read.empty());
        CHECK(c.acl_write.empty());
    }
    SECTION("org: a direction with patterns keeps exactly the operator's") {
        const auto c = parse_options({{"acl_write", "orgs/%o/users/%u/#"}});
        CHECK(c.acl_read == std::vector<std::string>{"orgs/%o/#"});
        CHECK(c.acl_write == std::vector<std::string>{"orgs/%o/users/%u/#"});
    }
    SECTION("none with patterns in one direction leaves the other open") {
        const auto c = parse_options({{"acl_default", "none"}, {"acl_read", "orgs/%o/#"}});
        CHECK(c.acl_read == std::vector<std::string>{"orgs/%o/#"});
        CHECK(c.acl_write.empty());
    }
    SECTION("the order of the lines does not matter") {
        const auto c = parse_options({{"acl_read", "a/%o/#"}, {"acl_default", "org"}});
        CHECK(c.acl_read == std::vector<std::string>{"a/%o/#"});
        CHECK(c.acl_write == std::vector<std::string>{"orgs/%o/#"});
    }
    auto bad = GENERATE(as<std::string>{}, "", "off", "all", "orgs");
    CAPTURE(bad);
    CHECK(error_of({{"acl_default", bad}}).rfind("Invalid 'acl_default' value '" + bad + "'", 0) ==
          0);
}

TEST_CASE("options: sys_interval", "[plugin][options]") {
    CHECK(parse_options({{"sys_interval", "0"}}).sys_interval.count() == 0);
    CHECK(parse_options({{"sys_interval", " 60 "}}).sys_interval.count() == 60);
    CHECK(parse_options({{"sys_interval", "86400"}}).sys_interval.count() == 86400);
    auto bad = GENERATE(as<std::string>{}, "", "-1", "86401", "10s", "1.5", "ten");
    CAPTURE(bad);
    CHECK(
        error_of({{"sys_interval", bad}}).rfind("Invalid 'sys_interval' value '" + bad + "'", 0) ==
        0);
}

TEST_CASE("options: good values", "[plugin][options]") {
    const auto c = parse_options({{"redis_url", "redis://10.0.0.5:6390/2"},
                                  {"REDIS_TIMEOUT_MS", " 1500 "},
                                  {"acl_read", "orgs/%o/#, orgs/%o/users/%u/+"},
                                  {"acl_read", "public/#"},
                                  {"acl_write", "orgs/%o/users/%u/#"},
                                  {"log_level", "DEBUG"}});
    CHECK(c.redis_endpoint.host == "10.0.0.5");
    CHECK(c.redis_endpoint.port == 6390);
    CHECK(c.redis_endpoint.db == 2);
    CHECK(c.redis_timeout.count() == 1500);
    CHECK(c.acl_read == std::vector<std::string>{"orgs/%o/#", "orgs/%o/users/%u/+", "public/#"});
    CHECK(c.acl_write == std::vector<std::string>{"orgs/%o/users/%u/#"});
    CHECK(c.log_level == LogLevel::debug);
}

TEST_CASE("options: timeout bounds", "[plugin][options]") {
    CHECK(parse_options({{"redis_timeout_ms", "1"}}).redis_timeout.count() == 1);
    CHECK(parse_options({{"redis_timeout_ms", "10000"}}).redis_timeout.count() == 10000);
    auto bad = GENERATE(as<std::string>{}, "", "abc", "0", "-5", "10001", "12ms", "1.5",
                        "99999999999999999999");
    CAPTURE(bad);
    CHECK(error_of({{"redis_timeout_ms", bad}})
              .rfind("Invalid 'redis_timeout_ms' value '" + bad + "'", 0) == 0);
}

TEST_CASE("options: log levels", "[plugin][options]") {
    CHECK(parse_options({{"log_level", "error"}}).log_level == LogLevel::error);
    CHECK(parse_options({{"log_level", "warning"}}).log_level == LogLevel::warning);
    CHECK(parse_options({{"log_level", "info"}}).log_level == LogLevel::info);
    CHECK(error_of({{"log_level", "verbose"}}).rfind("Invalid 'log_level' value 'verbose'", 0) ==
          0);
}

TEST_CASE("options: bad ACL patterns", "[plugin][options]") {
    auto bad =
        GENERATE(as<std::string>{}, "orgs/%x/#", "orgs/#/x", "orgs/a+/b", "orgs/%", "a#", ",", " ");
    CAPTURE(bad);
    const std::string msg = error_of({{"acl_write", bad}});
    CHECK(msg.rfind("Invalid 'acl_write' value", 0) == 0);
}

TEST_CASE("options: bad redis_url never echoes the URL", "[plugin][options]") {
    const std::string msg = error_of({{"redis_url", "http://user:s3cret@host:1"}});
    CHECK(msg.rfind("Invalid 'redis_url' value", 0) == 0);
    CHECK(msg.find("s3cret") == std::string::npos);
}

TEST_CASE("options: unknown option is an error", "[plugin][options]") {
    const std::string msg = error_of({{"redis_host", "x"}});
    CHECK(msg.find("Unknown option 'plugin_opt_redis_host'") != std::string::npos);
}

TEST_CASE("options: token replica on/off and its bound", "[plugin][options]") {
    const auto d = parse_options({});
    CHECK(d.cache);                          // on by default (writers fence the replicas)
    CHECK(d.cache_max_entries == 50000000);  // a safety limit, not a cache size
    CHECK(parse_options({{"cache", "on"}}).cache);
    CHECK_FALSE(parse_options({{"cache", "off"}}).cache);
    CHECK(parse_options({{"cache", " ON "}}).cache);
    CHECK(parse_options({{"cache_max_entries", "5000"}}).cache_max_entries == 5000);
    CHECK(parse_options({{"plugin_opt_cache_max_entries", "1"}}).cache_max_entries == 1);
    CHECK(error_of({{"cache", "maybe"}}).rfind("Invalid 'cache' value 'maybe'", 0) == 0);
    for (const std::string bad : {"0", "-1", "ten", "", "100000001", "12abc"}) {
        INFO(bad);
        CHECK(error_of({{"cache_max_entries", bad}})
                  .rfind("Invalid 'cache_max_entries' value '" + bad + "'", 0) == 0);
    }
}

TEST_CASE("options: delayed basic auth on/off", "[plugin][options]") {
    CHECK(parse_options({}).delayed_auth);  // used wherever the broker offers it
    CHECK_FALSE(parse_options({{"delayed_auth", "off"}}).delayed_auth);
    CHECK(parse_options({{"delayed_auth", "on"}}).delayed_auth);
    CHECK(error_of({{"delayed_auth", "auto"}}).rfind("Invalid 'delayed_auth' value 'auto'", 0) ==
          0);
}

TEST_CASE("options: failed-auth backoff", "[plugin][options]") {
    const auto d = parse_options({});
    CHECK(d.backoff);
    CHECK(d.backoff_threshold == 15);
    CHECK(d.backoff_first.count() == 10);
    CHECK(d.backoff_max.count() == 300);
    CHECK(d.backoff_max_tracked == 100000);
    const auto c = parse_options({{"backoff", "off"},
                                  {"backoff_threshold", " 3 "},
                                  {"backoff_first_s", "1"},
                                  {"backoff_max_s", "86400"},
                                  {"backoff_max_tracked", "50"}});
    CHECK_FALSE(c.backoff);
    CHECK(c.backoff_threshold == 3);
    CHECK(c.backoff_first.count() == 1);
    CHECK(c.backoff_max.count() == 86400);
    CHECK(c.backoff_max_tracked == 50);
    for (const char* key :
         {"backoff_threshold", "backoff_first_s", "backoff_max_s", "backoff_max_tracked"}) {
        auto bad = GENERATE(as<std::string>{}, "", "0", "-1", "abc", "1.5", "99999999999");
        CAPTURE(key, bad);
        CHECK(error_of({{key, bad}}).rfind(std::string("Invalid '") + key + "' value", 0) == 0);
    }
    CHECK(error_of({{"backoff", "maybe"}}).rfind("Invalid 'backoff' value 'maybe'", 0) == 0);
    // The cap below the first backoff is a mistake, not something to clamp silently.
    CHECK(error_of({{"backoff_first_s", "60"}, {"backoff_max_s", "30"}})
              .rfind("Invalid 'backoff_max_s' value '30' (must not be less than backoff_first_s",
                     0) == 0);
}

TEST_CASE("options: Redis TLS files, insecure, and their checks", "[plugin][options]") {
    tka::test::TempDir dir;
    const std::string ca = dir.write("ca.pem", "x");
    const std::string cert = dir.write("client.pem", "x");
    const std::string key = dir.write("client.key", "x");
    const auto config = tka::plugin::parse_options({{"redis_url", "rediss://10.0.0.5:6380/1"},
                                                    {"redis_tls_ca", ca},
                                                    {"plugin_opt_redis_tls_cert", cert},
                                                    {"REDIS_TLS_KEY", " " + key + " "},
                                                    {"redis_tls_insecure", "on"}});
    CHECK(config.redis_endpoint.tls);
    CHECK(config.redis_tls.ca_file == ca);
    CHECK(config.redis_tls.cert_file == cert);
    CHECK(config.redis_tls.key_file == key);
    CHECK(config.redis_tls.insecure);
    CHECK(tka::plugin::redis_options(config).tls.cert_file == cert);

    CHECK(error_of({{"redis_url", "rediss://h"}, {"redis_tls_cert", cert}}) ==
          "plugin_opt_redis_tls_cert and plugin_opt_redis_tls_key must be given together");
    CHECK(error_of({{"redis_url", "rediss://h"}, {"redis_tls_ca", dir.file("none.pem")}}) ==
          "cannot read plugin_opt_redis_tls_ca file '" + dir.file("none.pem") + "'");
    CHECK(error_of({{"redis_tls_ca", ca}}) ==
          "plugin_opt_redis_tls_ca, plugin_opt_redis_tls_cert, plugin_opt_redis_tls_key and "
          "plugin_opt_redis_tls_insecure need a TLS plugin_opt_redis_url (rediss://... or "
          "rediss+sentinel://...)");
    CHECK(error_of({{"redis_url", "rediss://h"}, {"redis_tls_insecure", "maybe"}})
              .rfind("Invalid 'redis_tls_insecure' value 'maybe'", 0) == 0);
}
