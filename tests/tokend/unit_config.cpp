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
        with({"--no-such-flag"}));
    auto r = parse_config(args);
    CHECK_FALSE(r.config);
    CHECK(r.exit_code != 0);
    CHECK_FALSE(r.message.empty());
    CHECK(r.message.find('\n') == std::string::npos);
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
