// tokend's flags and environment variables.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tokend/config.hpp"

using namespace tka::tokend;

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
    ~ScopedEnv() { unsetenv(name_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    const char* name_;
};

const std::vector<std::string> kRequired = {"--redis-url", "redis://127.0.0.1:6379", "--listen",
                                            "127.0.0.1:8080"};

std::vector<std::string> with(std::vector<std::string> extra) {
    std::vector<std::string> args = kRequired;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

}  // namespace

TEST_CASE("config defaults", "[tokend][unit]") {
    auto r = parse_config(kRequired);
    REQUIRE(r.config);
    CHECK(r.config->listen_host == "127.0.0.1");
    CHECK(r.config->listen_port == 8080);
    CHECK(r.config->redis.port == 6379);
    CHECK(r.config->provider == "mosquitto-token-auth");
    CHECK(r.config->threads == 32);
    CHECK(r.config->rate_limit == 0);
    CHECK_FALSE(r.config->tls());
}

TEST_CASE("config from environment; flags win", "[tokend][unit]") {
    ScopedEnv url("TOKEND_REDIS_URL", "redis://127.0.0.1:7000");
    ScopedEnv listen("TOKEND_LISTEN", "0.0.0.0:9000");
    ScopedEnv provider("TOKEND_PROVIDER", "from-env");
    ScopedEnv threads("TOKEND_THREADS", "3");
    auto r = parse_config(std::vector<std::string>{});
    REQUIRE(r.config);
    CHECK(r.config->redis.port == 7000);
    CHECK(r.config->listen_host == "0.0.0.0");
    CHECK(r.config->listen_port == 9000);
    CHECK(r.config->provider == "from-env");
    CHECK(r.config->threads == 3);

    auto flags =
        parse_config(std::vector<std::string>{"--provider", "from-flag", "--listen", "[::1]:9100"});
    REQUIRE(flags.config);
    CHECK(flags.config->provider == "from-flag");
    CHECK(flags.config->listen_host == "::1");
    CHECK(flags.config->listen_port == 9100);
    CHECK(flags.config->redis.port == 7000);
}

TEST_CASE("config rejects bad values with one line", "[tokend][unit]") {
    tka::test::TempDir dir;
    const std::string cert = dir.write("cert.pem", "x");
    auto args = GENERATE_REF(
        std::vector<std::string>{"--listen", "127.0.0.1:8080"},        // no redis url
        std::vector<std::string>{"--redis-url", "redis://127.0.0.1"},  // no listen
        with({"--listen", "localhost"}), with({"--listen", "127.0.0.1:99999"}),
        with({"--listen", "127.0.0.1:http"}), with({"--redis-url", "http://nope"}),
        with({"--threads", "0"}), with({"--threads", "many"}), with({"--rate-limit", "-1"}),
        with({"--redis-timeout-ms", "0"}), with({"--tls-cert", cert}),
        with({"--tls-cert", cert, "--tls-key", dir.file("missing.pem")}), with({"--provider", ""}),
        with({"--no-such-flag"}), with({"--rate-limit", "nan"}), with({"--rate-limit", "inf"}),
        with({"--rate-limit", "1e999"}), with({"--rate-limit", "12abc"}),
        with({"--rate-burst", "-nan"}), with({"--max-body-bytes", "-1"}),
        with({"--max-body-bytes", "0"}), with({"--header-timeout-ms", "abc"}),
        with({"--header-timeout-ms", "0"}), with({"--idle-timeout-ms", "1.5"}),
        with({"--max-connections", "10k"}), with({"--io-threads", "0"}), with({"--queue-max", "0"}),
        with({"--max-header-fields", "nan"}));
    auto r = parse_config(args);
    CHECK_FALSE(r.config);
    CHECK(r.exit_code != 0);
    CHECK_FALSE(r.message.empty());
    CHECK(r.message.find('\n') == std::string::npos);
}

TEST_CASE("config: HTTP limits and event-loop flags", "[tokend][unit]") {
    auto defaults = parse_config(kRequired);
    REQUIRE(defaults.config);
    const HttpLimits& d = defaults.config->limits;
    CHECK(d.header_timeout == std::chrono::milliseconds(10000));
    CHECK(d.body_timeout == std::chrono::milliseconds(10000));
    CHECK(d.idle_timeout == std::chrono::milliseconds(5000));
    CHECK(d.max_header_bytes == 8192);
    CHECK(d.max_body_bytes == 65536);
    CHECK(d.max_connections == 10000);
    CHECK(d.max_connections_per_address == 256);
    CHECK(defaults.config->io_threads == 2);
    CHECK(defaults.config->queue_max == 1024);

    ScopedEnv idle("TOKEND_IDLE_TIMEOUT_MS", "750");
    auto r = parse_config(with({"--header-timeout-ms", "1500", "--max-body-bytes", "1024",
                                "--max-connections-per-address", "3", "--io-threads", "4"}));
    REQUIRE(r.config);
    CHECK(r.config->limits.header_timeout == std::chrono::milliseconds(1500));
    CHECK(r.config->limits.idle_timeout == std::chrono::milliseconds(750));
    CHECK(r.config->limits.max_body_bytes == 1024);
    CHECK(r.config->limits.max_connections_per_address == 3);
    CHECK(r.config->io_threads == 4);
}

TEST_CASE("config never puts the Redis password in messages", "[tokend][unit]") {
    auto r = parse_config(std::vector<std::string>{
        "--redis-url", "redis://u:s3cretpw@127.0.0.1:6379", "--listen", "nope"});
    CHECK_FALSE(r.config);
    CHECK(r.message.find("s3cretpw") == std::string::npos);
    auto ok = parse_config(std::vector<std::string>{
        "--redis-url", "redis://u:s3cretpw@127.0.0.1:6379", "--listen", "127.0.0.1:1"});
    REQUIRE(ok.config);
    CHECK(ok.config->redis.redacted().find("s3cretpw") == std::string::npos);
}

TEST_CASE("tokend --help exits 0 with usage", "[tokend][unit]") {
    auto r = parse_config(std::vector<std::string>{"--help"});
    CHECK_FALSE(r.config);
    CHECK(r.exit_code == 0);
    CHECK(r.message.find("--redis-url") != std::string::npos);
}

TEST_CASE("tokend --version exits 0 with the project version", "[tokend][unit]") {
    auto r = parse_config(std::vector<std::string>{"--version"});
    CHECK_FALSE(r.config);
    CHECK(r.exit_code == 0);
    CHECK(r.message == std::string("tokend ") + TKA_VERSION + "\n");
}

TEST_CASE("config: throttling defaults", "[tokend][unit]") {
    auto r = parse_config(kRequired);
    REQUIRE(r.config);
    const ThrottleOptions& t = r.config->throttle;
    CHECK(t.auth_fail_threshold == 30);
    CHECK(t.auth_fail_halflife_s == 60);
    CHECK(t.auth_fail_penalty_s == 10);
    CHECK(t.auth_fail_max_penalty_s == 900);
    CHECK(t.org_fail_threshold == 100);
    CHECK(t.allow.empty());
    CHECK(t.proxy.trusted_proxies.empty());
    CHECK(t.proxy.header.empty());
    CHECK_FALSE(t.proxy.enabled());

    auto help = parse_config(std::vector<std::string>{"--help"});
    for (const char* flag :
         {"--auth-fail-threshold", "--auth-fail-halflife-s", "--auth-fail-penalty-s",
          "--auth-fail-max-penalty-s", "--org-fail-threshold", "--throttle-allow",
          "--trusted-proxy", "--client-address-header"}) {
        CAPTURE(flag);
        CHECK(help.message.find(flag) != std::string::npos);
    }
    CHECK(help.message.find("900") != std::string::npos);
}

TEST_CASE("config: throttling flags", "[tokend][unit]") {
    auto r = parse_config(with(
        {"--auth-fail-threshold", "0", "--auth-fail-halflife-s", "2.5", "--auth-fail-penalty-s",
         "1", "--auth-fail-max-penalty-s", "5", "--org-fail-threshold", "500", "--throttle-allow",
         "10.0.0.0/8, 192.0.2.7", "--throttle-allow", "2001:db8::/32", "--trusted-proxy",
         "127.0.0.1,::1", "--client-address-header", "X-Real-IP"}));
    REQUIRE(r.config);
    const ThrottleOptions& t = r.config->throttle;
    CHECK(t.auth_fail_threshold == 0);
    CHECK(t.auth_fail_halflife_s == 2.5);
    CHECK(t.auth_fail_penalty_s == 1);
    CHECK(t.auth_fail_max_penalty_s == 5);
    CHECK(t.org_fail_threshold == 500);
    CHECK(t.allow.ranges().size() == 3);
    CHECK(t.allow.contains(std::string_view("10.20.30.40")));
    CHECK(t.allow.contains(std::string_view("2001:db8::5")));
    CHECK(t.proxy.enabled());
    CHECK(t.proxy.header == "X-Real-IP");
    CHECK(t.proxy.trusted_proxies.contains(std::string_view("::1")));
}

TEST_CASE("config: throttling from the environment", "[tokend][unit]") {
    ScopedEnv threshold("TOKEND_AUTH_FAIL_THRESHOLD", "12");
    ScopedEnv halflife("TOKEND_AUTH_FAIL_HALFLIFE_S", "30");
    ScopedEnv penalty("TOKEND_AUTH_FAIL_PENALTY_S", "3");
    ScopedEnv max_penalty("TOKEND_AUTH_FAIL_MAX_PENALTY_S", "60");
    ScopedEnv org("TOKEND_ORG_FAIL_THRESHOLD", "0");
    ScopedEnv allow("TOKEND_THROTTLE_ALLOW", "10.0.0.0/8, 2001:db8::/32");
    ScopedEnv proxy("TOKEND_TRUSTED_PROXY", "192.0.2.1");
    ScopedEnv header("TOKEND_CLIENT_ADDRESS_HEADER", "X-Forwarded-For");
    auto r = parse_config(kRequired);
    REQUIRE(r.config);
    const ThrottleOptions& t = r.config->throttle;
    CHECK(t.auth_fail_threshold == 12);
    CHECK(t.auth_fail_halflife_s == 30);
    CHECK(t.auth_fail_penalty_s == 3);
    CHECK(t.auth_fail_max_penalty_s == 60);
    CHECK(t.org_fail_threshold == 0);
    CHECK(t.allow.ranges().size() == 2);
    CHECK(t.proxy.enabled());
    CHECK(t.proxy.header == "X-Forwarded-For");

    auto flag = parse_config(with({"--throttle-allow", "192.0.2.9"}));
    REQUIRE(flag.config);
    CHECK(flag.config->throttle.allow.ranges().size() == 1);
}

TEST_CASE("config: bad throttling values are refused with one line", "[tokend][unit]") {
    auto args = GENERATE_REF(
        with({"--auth-fail-threshold", "-1"}), with({"--auth-fail-threshold", "1.5"}),
        with({"--auth-fail-threshold", "many"}), with({"--auth-fail-halflife-s", "nan"}),
        with({"--auth-fail-halflife-s", "inf"}), with({"--auth-fail-halflife-s", "0"}),
        with({"--auth-fail-halflife-s", "-60"}), with({"--auth-fail-halflife-s", "1e9"}),
        with({"--auth-fail-penalty-s", "0"}), with({"--auth-fail-max-penalty-s", "0"}),
        with({"--auth-fail-penalty-s", "60", "--auth-fail-max-penalty-s", "30"}),
        with({"--org-fail-threshold", "-5"}), with({"--throttle-allow", "garbage"}),
        with({"--throttle-allow", "10.0.0.1/8"}), with({"--throttle-allow", "10.0.0.0/33"}),
        with({"--throttle-allow", "::/129"}), with({"--throttle-allow", ""}),
        with({"--throttle-allow", "10.0.0.0/8,,::1"}),
        with({"--throttle-allow", "10.0.0.0/8", "192.0.2.7"}),
        with({"--throttle-allow", "10.0.0.0/8\n192.0.2.7"}),
        with({"--trusted-proxy", "localhost", "--client-address-header", "X-Forwarded-For"}),
        with({"--trusted-proxy", "127.0.0.1"}), with({"--client-address-header", "X-Real-IP"}),
        with({"--trusted-proxy", "127.0.0.1", "--client-address-header", "X Real IP"}),
        with({"--trusted-proxy", "127.0.0.1", "--client-address-header", "X-Real-IP\nX: 1"}));
    auto r = parse_config(args);
    CHECK_FALSE(r.config);
    CHECK(r.exit_code != 0);
    CHECK_FALSE(r.message.empty());
    CHECK(r.message.find('\n') == std::string::npos);
}

TEST_CASE("config: Redis TLS flags and their environment variables", "[tokend][unit]") {
    tka::test::TempDir dir;
    const std::string ca = dir.write("ca.pem", "x");
    const std::string cert = dir.write("client.pem", "x");
    const std::string key = dir.write("client.key", "x");
    const std::vector<std::string> tls_url = {"--redis-url", "rediss://redis.internal:6380",
                                              "--listen", "127.0.0.1:8080"};
    auto args = tls_url;
    args.insert(args.end(),
                {"--redis-tls-ca", ca, "--redis-tls-cert", cert, "--redis-tls-key", key});
    auto r = parse_config(args);
    REQUIRE(r.config);
    CHECK(r.config->redis.tls);
    CHECK(r.config->redis_tls.ca_file == ca);
    CHECK(r.config->redis_tls.cert_file == cert);
    CHECK(r.config->redis_tls.key_file == key);
    CHECK_FALSE(r.config->redis_tls.insecure);

    {
        ScopedEnv env_ca("TOKEND_REDIS_TLS_CA", ca.c_str());
        ScopedEnv env_insecure("TOKEND_REDIS_TLS_INSECURE", "true");
        auto from_env = parse_config(tls_url);
        REQUIRE(from_env.config);
        CHECK(from_env.config->redis_tls.ca_file == ca);
        CHECK(from_env.config->redis_tls.insecure);
    }

    const auto error_of = [&](std::vector<std::string> extra, const std::string& url) {
        std::vector<std::string> a = {"--redis-url", url, "--listen", "127.0.0.1:8080"};
        a.insert(a.end(), extra.begin(), extra.end());
        auto bad = parse_config(a);
        CHECK_FALSE(bad.config);
        CHECK(bad.exit_code != 0);
        return bad.message;
    };
    const std::string tls = "rediss://127.0.0.1:6380";
    CHECK(error_of({"--redis-tls-cert", cert}, tls) ==
          "--redis-tls-cert and --redis-tls-key must be given together");
    CHECK(error_of({"--redis-tls-key", key}, tls) ==
          "--redis-tls-cert and --redis-tls-key must be given together");
    CHECK(error_of({"--redis-tls-ca", dir.file("missing.pem")}, tls) ==
          "cannot read --redis-tls-ca file '" + dir.file("missing.pem") + "'");
    CHECK(error_of({"--redis-tls-cert", dir.file("nope.pem"), "--redis-tls-key", key}, tls) ==
          "cannot read --redis-tls-cert file '" + dir.file("nope.pem") + "'");
    CHECK(error_of({"--redis-tls-ca", ca}, "redis://127.0.0.1:6379") ==
          "--redis-tls-ca, --redis-tls-cert, --redis-tls-key and --redis-tls-insecure need a "
          "TLS --redis-url (rediss://... or rediss+sentinel://...)");
    CHECK_THAT(error_of({"--redis-tls-insecure"}, "unix:///tmp/redis.sock"),
               Catch::Matchers::Contains("need a TLS --redis-url"));
}

TEST_CASE("config: --redis-wait-replicas and --redis-wait-ms", "[tokend][unit]") {
    auto defaults = parse_config(kRequired);
    REQUIRE(defaults.config);
    CHECK(defaults.config->redis_wait_replicas == 0);
    CHECK(defaults.config->redis_wait_ms == 1000);

    auto flags = parse_config(with({"--redis-wait-replicas", "2", "--redis-wait-ms", "250"}));
    REQUIRE(flags.config);
    CHECK(flags.config->redis_wait_replicas == 2);
    CHECK(flags.config->redis_wait_ms == 250);

    ScopedEnv replicas("TOKEND_REDIS_WAIT_REPLICAS", "1");
    ScopedEnv wait_ms("TOKEND_REDIS_WAIT_MS", "3000");
    auto env = parse_config(kRequired);
    REQUIRE(env.config);
    CHECK(env.config->redis_wait_replicas == 1);
    CHECK(env.config->redis_wait_ms == 3000);
}

TEST_CASE("config: bad --redis-wait-* values are refused naming the option", "[tokend][unit]") {
    auto [args, option] = GENERATE(table<std::vector<std::string>, std::string>({
        {with({"--redis-wait-replicas", "-1"}), "--redis-wait-replicas"},
        {with({"--redis-wait-replicas", "1.5"}), "--redis-wait-replicas"},
        {with({"--redis-wait-replicas", "65"}), "--redis-wait-replicas"},
        {with({"--redis-wait-replicas", ""}), "--redis-wait-replicas"},
        {with({"--redis-wait-ms", "0"}), "--redis-wait-ms"},
        {with({"--redis-wait-ms", "60001"}), "--redis-wait-ms"},
        {with({"--redis-wait-ms", "1s"}), "--redis-wait-ms"},
    }));
    auto r = parse_config(args);
    CHECK_FALSE(r.config);
    CHECK(r.exit_code == 2);
    CHECK(r.message.rfind(option, 0) == 0);
    CHECK(r.message.find(" must be a whole number") != std::string::npos);
    CHECK(r.message.find('\n') == std::string::npos);
}

TEST_CASE("config: the admin listener is off by default", "[tokend][unit]") {
    auto r = parse_config(kRequired);
    REQUIRE(r.config);
    CHECK_FALSE(r.config->admin());
    CHECK(r.config->admin_session_idle_seconds == 1800);
    CHECK(r.config->admin_session_max_seconds == 43200);
}

TEST_CASE("config: --admin-listen takes HOST:PORT or a bare PORT on 127.0.0.1", "[tokend][unit]") {
    auto r = parse_config(with({"--admin-listen", "9090"}));
    REQUIRE(r.config);
    CHECK(r.config->admin());
    CHECK(r.config->admin_listen_host == "127.0.0.1");
    CHECK(r.config->admin_listen_port == 9090);

    r = parse_config(with({"--admin-listen", "[::1]:9091", "--admin-session-idle-seconds", "60",
                           "--admin-session-max-seconds", "600"}));
    REQUIRE(r.config);
    CHECK(r.config->admin_listen_host == "::1");
    CHECK(r.config->admin_listen_port == 9091);
    CHECK(r.config->admin_session_idle_seconds == 60);
    CHECK(r.config->admin_session_max_seconds == 600);
}

TEST_CASE("config: admin flags from the environment; flags win", "[tokend][unit]") {
    ScopedEnv listen("TOKEND_ADMIN_LISTEN", "0.0.0.0:9092");
    ScopedEnv idle("TOKEND_ADMIN_SESSION_IDLE_SECONDS", "5");
    auto r = parse_config(kRequired);
    REQUIRE(r.config);
    CHECK(r.config->admin_listen_host == "0.0.0.0");
    CHECK(r.config->admin_listen_port == 9092);
    CHECK(r.config->admin_session_idle_seconds == 5);
    r = parse_config(with({"--admin-listen", "9093"}));
    REQUIRE(r.config);
    CHECK(r.config->admin_listen_host == "127.0.0.1");
    CHECK(r.config->admin_listen_port == 9093);
}

TEST_CASE("config: bad admin values are refused with one line naming the option",
          "[tokend][unit]") {
    auto [args, option] = GENERATE(table<std::vector<std::string>, std::string>({
        {with({"--admin-listen", "localhost"}), "--admin-listen"},
        {with({"--admin-listen", "99999"}), "--admin-listen"},
        {with({"--admin-listen", "-1"}), "--admin-listen"},
        {with({"--admin-listen", "127.0.0.1:http"}), "--admin-listen"},
        {with({"--admin-session-idle-seconds", "0"}), "--admin-session-idle-seconds"},
        {with({"--admin-session-idle-seconds", "1e3"}), "--admin-session-idle-seconds"},
        {with({"--admin-session-idle-seconds", "10 "}), "--admin-session-idle-seconds"},
        {with({"--admin-session-max-seconds", "-5"}), "--admin-session-max-seconds"},
        {with({"--admin-session-max-seconds", "99999999999999999999"}),
         "--admin-session-max-seconds"},
    }));
    auto r = parse_config(args);
    CHECK_FALSE(r.config);
    CHECK(r.exit_code == 2);
    CHECK(r.message.find(option) != std::string::npos);
    CHECK(r.message.find('\n') == std::string::npos);
}
