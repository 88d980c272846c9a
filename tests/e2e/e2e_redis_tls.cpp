// The three programs over rediss:// against a real redis-server that listens for TLS only
// and requires client certificates: tokenctl creates the organization, tokend mints a
// token, the plugin in a real broker authenticates a real MQTT client with it and closes
// the connection when tokenctl revokes the token (the event stream over TLS too). With
// the wrong CA every program refuses, and says why.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/tls_redis_server.hpp"
#include "tests/tokend/tokend_harness.hpp"

using namespace tka;
using namespace tka::e2e;

namespace {

const std::string kTokenctl = TKA_BINARY_DIR "/tokenctl/tokenctl";

// The --redis-tls-* flags for a client certificate and `ca`.
std::vector<std::string> tls_flags(const test::TestPki& pki, const std::string& ca) {
    return {"--redis-tls-ca", ca, "--redis-tls-cert", pki.client_cert(), "--redis-tls-key",
            pki.client_key()};
}

test::RunResult tokenctl(const test::TlsRedisServer& redis, const std::vector<std::string>& tls,
                         const std::vector<std::string>& args) {
    std::vector<std::string> argv{kTokenctl, "--redis-url", redis.url()};
    argv.insert(argv.end(), tls.begin(), tls.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
}

BrokerConfig tls_broker(const test::TlsRedisServer& redis, const test::TestPki& pki,
                        const std::string& ca) {
    BrokerConfig config;
    config.plugin_path = plugin_path();
    config.plugin_opts = {{"redis_url", redis.url()},
                          {"redis_tls_ca", ca},
                          {"redis_tls_cert", pki.client_cert()},
                          {"redis_tls_key", pki.client_key()},
                          {"log_level", "debug"}};
    return config;
}

}  // namespace

TEST_CASE("tokenctl, tokend and the plugin work over rediss:// with mutual TLS", "[e2e][tls]") {
    const test::TestPki pki;
    test::TlsRedisServer redis(pki, {.require_client_cert = true});
    const auto flags = tls_flags(pki, pki.ca_cert());

    const auto created =
        tokenctl(redis, flags, {"org", "create", "--name", "acme", "--token-auth", "on", "--json"});
    INFO("tokenctl: " << created.err);
    REQUIRE(created.exit_code == 0);
    const auto org_json = nlohmann::json::parse(created.out);
    const test::TestOrg org{org_json.at("organization_id"), org_json.at("secret_key"), 3600};

    test::Tokend tokend(redis.url(), flags);
    auto http = tokend.client();
    const test::Reply minted =
        test::post_json(http, "/v2/tokens/create", test::create_body(org, "alice@example.com"));
    TKA_REQUIRE_STATUS(minted, 200, tokend);
    const std::string username = minted.json["mqtt_credentials"].value("username", "");
    const std::string password = minted.json.value("access_token", "");
    const std::string token_id = minted.json.value("token_id", "");

    MosquittoBroker broker(tls_broker(redis, pki, pki.ca_cert()));
    MqttClient client;
    INFO("broker log:\n" << broker.log());
    REQUIRE(client.connect(broker.port(), "alice-phone", username, password) == 0);
    std::string topic = "orgs/";
    topic.append(org.id).append("/tls");
    REQUIRE(client.subscribe(topic, 1) == 1);
    REQUIRE(client.publish(topic, "over TLS", 1));
    CHECK(client.wait_message(topic, 5s) == std::optional<std::string>("over TLS"));

    const auto revoked = tokenctl(redis, flags, {"token", "revoke", org.id, token_id});
    INFO("tokenctl: " << revoked.err);
    REQUIRE(revoked.exit_code == 0);
    CHECK(client.wait_disconnected(5s).has_value());
    MqttClient again;
    CHECK(refused(again.connect(broker.port(), "alice-phone", username, password)));
}

TEST_CASE("with the wrong CA every program refuses Redis and says why", "[e2e][tls]") {
    const test::TestPki pki;
    test::TlsRedisServer redis(pki);
    const auto wrong = tls_flags(pki, pki.wrong_ca_cert());

    const auto listed = tokenctl(redis, wrong, {"org", "list"});
    CHECK(listed.exit_code == 3);
    CHECK_THAT(listed.err, Catch::Matchers::Contains(
                               "TLS handshake with 127.0.0.1:" + std::to_string(redis.port()) +
                               " failed: certificate verify failed"));

    test::Tokend tokend(redis.url(), wrong);
    auto http = tokend.client();
    const test::Reply health = test::get(http, "/healthz");
    CHECK(health.status == 503);

    RedisConnection admin(redis.options());
    OrgStore orgs(admin);
    TokenStore tokens(admin);
    const auto org = orgs.create("acme", 3600, true, unix_now()).org;
    const auto alice = tokens.create(org, "alice@example.com", true, unix_now());
    MosquittoBroker broker(tls_broker(redis, pki, pki.wrong_ca_cert()));
    MqttClient client;
    CHECK(refused(connect_with(client, broker.port(), "alice-phone", alice)));  // fail closed
    CHECK(wait_for_log(broker, "certificate verify failed", 5s));
}

TEST_CASE("TLS options with a plain redis:// URL stop tokenctl and tokend at start", "[e2e][tls]") {
    const test::TestPki pki;
    const auto plain = test::run({kTokenctl, "--redis-url", "redis://127.0.0.1:1", "--redis-tls-ca",
                                  pki.ca_cert(), "org", "list"});
    CHECK(plain.exit_code == 2);
    CHECK_THAT(plain.err, Catch::Matchers::Contains("need a TLS --redis-url"));

    const auto tokend =
        test::run({test::kTokendBinary, "--redis-url", "redis://127.0.0.1:1", "--listen",
                   "127.0.0.1:0", "--redis-tls-cert", pki.client_cert()});
    CHECK(tokend.exit_code == 2);
    CHECK_THAT(tokend.err, Catch::Matchers::Contains("need a TLS --redis-url"));
}
