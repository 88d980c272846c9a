// Redis Sentinel for real: a primary, a replica and three redis-sentinel processes on
// loopback (tests/support/sentinel_cluster.hpp), with tokend, tokenctl and a broker with
// the plugin all given the redis+sentinel:// URL. The primary is killed with SIGKILL and
// Sentinel promotes the replica; without restarting anything, tokend mints and refreshes,
// tokenctl administers, the broker accepts tokens (old and new) and closes revoked
// connections. While the switch lasts every request is answered (refused, 503, exit 3),
// none hangs, nothing crashes; the time each program took to follow is printed.
// Second case: with --redis-wait-replicas 1, every token tokend answered 200 for survives a
// failover that happens right after the answers (common/replica_wait.hpp).
// Hidden ([.]): tests/e2e/CMakeLists.txt runs these once, not in every matrix leg.
#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/sentinel_cluster.hpp"
#include "tests/tokend/tokend_harness.hpp"

using namespace tka;
using namespace tka::e2e;
using test::post_json;
using test::Reply;
using test::SentinelCluster;
using test::TestOrg;
using test::Tokend;

namespace {

const std::string kTokenctl = TKA_BINARY_DIR "/tokenctl/tokenctl";
constexpr auto kSwitchTimeout = 30s;  // the whole failover, far above Sentinel's few seconds

struct HttpToken {
    std::string token_id;
    std::string username;
    std::string password;
};

HttpToken token_of(const Reply& reply) {
    return {reply.json.value("token_id", ""), reply.json["mqtt_credentials"].value("username", ""),
            reply.json.value("access_token", "")};
}

int connect_http(MqttClient& client, int port, const std::string& client_id,
                 const HttpToken& token) {
    return client.connect(port, client_id, token.username, token.password);
}

BrokerConfig sentinel_broker(const SentinelCluster& cluster) {
    BrokerConfig config;
    config.plugin_path = plugin_path();
    config.plugin_opts = {{"redis_url", cluster.url()}, {"log_level", "debug"}};
    return config;
}

test::RunResult tokenctl(const SentinelCluster& cluster, std::vector<std::string> args,
                         std::vector<std::string> global = {}) {
    std::vector<std::string> argv = {kTokenctl, "--redis-url", cluster.url()};
    argv.insert(argv.end(), global.begin(), global.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, "", {}, 20s);
}

TestOrg create_org(const SentinelCluster& cluster, std::vector<std::string> global = {}) {
    const auto created = tokenctl(
        cluster, {"org", "create", "--name", "acme", "--token-auth", "on", "--json"}, global);
    INFO("tokenctl: " << created.err);
    REQUIRE(created.exit_code == 0);
    const auto json = nlohmann::json::parse(created.out);
    return {json.at("organization_id").get<std::string>(), json.at("secret_key").get<std::string>(),
            3600};
}

HttpToken mint(Tokend& tokend, const TestOrg& org, const std::string& email) {
    auto http = tokend.client();
    const Reply created = post_json(http, "/v2/tokens/create", test::create_body(org, email));
    TKA_REQUIRE_STATUS(created, 200, tokend);
    return token_of(created);
}

// A 503 for a write that too few replicas confirmed (--redis-wait-replicas).
bool is_unconfirmed(const Reply& r) {
    return r.status == 503 && r.json.is_object() &&
           r.json.value("error_description", "").find("not confirmed by") != std::string::npos;
}

// POSTs until `done` says the answer is final (or kSwitchTimeout passes): a 503 for a
// connection that died with the old primary is a failure before anything was written,
// so the request is safe to repeat.
template <typename Done>
Reply post_until(test::HttpClient& http, const std::string& path, const nlohmann::json& body,
                 Done done) {
    const auto deadline = Clock::now() + kSwitchTimeout;
    Reply reply = post_json(http, path, body);
    while (!done(reply) && Clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
        reply = post_json(http, path, body);
    }
    return reply;
}

void wait_replica_trusted(const MosquittoBroker& broker) {
    if (replica_on(broker)) {
        REQUIRE(wait_for_log(broker, "token replica trusted", 10s));
    }
}

// When each program first succeeded after the kill, in ms since the kill.
struct Followed {
    std::optional<long long> tokend;
    std::optional<long long> tokenctl;
    std::optional<long long> plugin;
    std::optional<long long> sentinels;  // the sentinels agreed on the promoted replica
    bool all() const { return tokend && tokenctl && plugin && sentinels; }
};

}  // namespace

TEST_CASE("failover: tokend, tokenctl and the plugin follow a failover without restarts",
          "[.][sentinel]") {
    SentinelCluster cluster;
    MosquittoBroker broker(sentinel_broker(cluster));
    wait_replica_trusted(broker);
    Tokend tokend(cluster.url());
    const TestOrg org = create_org(cluster);
    const HttpToken alice = mint(tokend, org, "alice@example.com");
    const HttpToken bob = mint(tokend, org, "bob@example.com");
    MqttClient alice_live;
    MqttClient bob_live;
    REQUIRE(connect_http(alice_live, broker.port(), "alice-live", alice) == 0);
    REQUIRE(connect_http(bob_live, broker.port(), "bob-live", bob) == 0);

    cluster.kill_primary();
    const auto killed_at = Clock::now();
    // Until every program has followed: one try each per round. Every try must get an
    // answer: tokend 200 or 503, tokenctl exit 0 or 3 (Redis unreachable), the broker a
    // CONNACK. The plugin has followed once it accepts a token minted after the switch
    // (only the new primary can know it).
    Followed followed;
    std::optional<HttpToken> fresh;
    std::map<std::string, int> answers;  // what the tries got, for the report
    auto http = tokend.client();
    int round = 0;
    while (!followed.all()) {
        INFO("round " << round << ", " << ms(Clock::now() - killed_at) << " ms after the kill");
        if (Clock::now() - killed_at > kSwitchTimeout) {
            FAIL("not every program followed the new primary:\n"
                 << "tokend log:\n"
                 << tokend.log() << "\nbroker log:\n"
                 << broker.log_tail(80) << "\n"
                 << cluster.logs());
        }
        if (!followed.sentinels && cluster.new_primary_ready()) {
            followed.sentinels = ms(Clock::now() - killed_at);
        }
        if (!followed.tokend) {
            const Reply created =
                post_json(http, "/v2/tokens/create", test::create_body(org, "carol@example.com"));
            ++answers[fmt::format("tokend {}", created.status)];
            INFO("tokend answered " << created.status << ": " << created.body);
            REQUIRE((created.status == 200 || created.status == 503));
            if (created.status == 200) {
                followed.tokend = ms(Clock::now() - killed_at);
                fresh = token_of(created);
            }
        }
        if (!followed.tokenctl) {
            const auto set = tokenctl(cluster, {"org", "set", org.id, "--ttl", "3600"});
            ++answers[fmt::format("tokenctl exit {}", set.exit_code)];
            INFO("tokenctl: exit " << set.exit_code << ", " << set.err);
            REQUIRE((set.exit_code == 0 || set.exit_code == 3));
            if (set.exit_code == 0) {
                followed.tokenctl = ms(Clock::now() - killed_at);
            }
        }
        if (!followed.plugin) {
            MqttClient probe;
            const int rc = fresh ? connect_http(probe, broker.port(), "carol", *fresh)
                                 : connect_http(probe, broker.port(), "alice-probe", alice);
            ++answers[fmt::format("CONNACK {}", rc)];
            REQUIRE(rc != MqttClient::kNoConnack);
            if (fresh && rc == 0) {
                followed.plugin = ms(Clock::now() - killed_at);
            }
        }
        ++round;
        std::this_thread::sleep_for(50ms);
    }
    std::cout << "sentinel failover, ms after the SIGKILL: sentinels agreed on the new primary "
              << *followed.sentinels << ", tokend minted " << *followed.tokend
              << ", tokenctl wrote " << *followed.tokenctl << ", the plugin accepted a new token "
              << *followed.plugin << " (" << round << " rounds of tries:";
    for (const auto& [what, count] : answers) {
        std::cout << " " << what << " x" << count;
    }
    std::cout << ")\n";

    // A token minted before the failover authenticates on a new connection.
    MqttClient alice_again;
    CHECK(connect_http(alice_again, broker.port(), "alice-again", alice) == 0);
    // tokend refreshes a token minted before the failover; the new password works.
    // (A tokend worker whose connection died with the old primary answers 503 once, before
    // writing anything: retried.)
    const Reply refreshed =
        post_until(http, "/v2/tokens/refresh",
                   {{"token_id", alice.token_id}, {"current_token_password", alice.password}},
                   [](const Reply& r) { return r.status != 503; });
    TKA_REQUIRE_STATUS(refreshed, 200, tokend);
    MqttClient alice_refreshed;
    CHECK(connect_http(alice_refreshed, broker.port(), "alice-refreshed", token_of(refreshed)) ==
          0);
    // tokenctl lists the tokens, and its revoke closes bob's live connection.
    const auto listed = tokenctl(cluster, {"token", "list", org.id, "--json"});
    INFO("tokenctl token list: " << listed.err);
    REQUIRE(listed.exit_code == 0);
    std::vector<std::string> listed_ids;
    for (const auto& t : nlohmann::json::parse(listed.out)) {
        listed_ids.push_back(t.value("token_id", ""));
    }
    CHECK_THAT(listed_ids, Catch::Matchers::VectorContains(alice.token_id) &&
                               Catch::Matchers::VectorContains(bob.token_id));
    const auto revoke_at = Clock::now();
    const auto revoked = tokenctl(cluster, {"token", "revoke", org.id, bob.token_id});
    INFO("tokenctl token revoke: " << revoked.err);
    REQUIRE(revoked.exit_code == 0);
    const auto closed = bob_live.wait_disconnected(10s);
    REQUIRE(closed.has_value());
    INFO("bob's connection closed " << ms(*closed - revoke_at) << " ms after tokenctl started");
    CHECK(ms(*closed - revoke_at) <= ms(kCloseWindow) + 2000);  // tokenctl's own start included
    MqttClient bob_again;
    CHECK(refused(connect_http(bob_again, broker.port(), "bob-again", bob)));
    // Alice's connection from before the failover was never touched.
    CHECK(alice_live.connected());

    CHECK(broker.running());
    CHECK(tokend.process().running());
    INFO(cluster.logs());
    CHECK(cluster.all_running());
}

TEST_CASE("failover with --redis-wait-replicas 1: tokens answered 200 survive a failover",
          "[.][sentinel]") {
    SentinelCluster cluster;
    MosquittoBroker broker(sentinel_broker(cluster));
    wait_replica_trusted(broker);
    const std::vector<std::string> wait = {"--redis-wait-replicas", "1", "--redis-wait-ms", "2000"};
    Tokend tokend(cluster.url(), wait);
    const TestOrg org = create_org(cluster, wait);

    // More replicas than there are: refused, and said so.
    {
        Tokend greedy(cluster.url(), {"--redis-wait-replicas", "2", "--redis-wait-ms", "200"});
        auto http = greedy.client();
        const Reply created =
            post_json(http, "/v2/tokens/create", test::create_body(org, "greedy@example.com"));
        TKA_REQUIRE_ERROR(created, 503, "temporarily_unavailable", greedy);
        CHECK(created.json["error_description"].get<std::string>().find(
                  "not confirmed by 2 replicas within 200 ms") != std::string::npos);
        const auto set = tokenctl(cluster, {"org", "set", org.id, "--ttl", "600"},
                                  {"--redis-wait-replicas", "2", "--redis-wait-ms", "200"});
        INFO("tokenctl: " << set.err);
        CHECK(set.exit_code == 3);
        CHECK(set.err.find("not confirmed by 2 replicas within 200 ms") != std::string::npos);
    }

    std::vector<HttpToken> tokens;
    auto http = tokend.client();
    for (int i = 0; i < 20; ++i) {
        const Reply created =
            post_json(http, "/v2/tokens/create",
                      test::create_body(org, fmt::format("device-{}@example.com", i)));
        TKA_REQUIRE_STATUS(created, 200, tokend);
        tokens.push_back(token_of(created));
    }
    cluster.kill_primary();  // right after the last 200: nothing more is replicated
    const auto promoted = cluster.wait_for_new_primary(kSwitchTimeout);
    std::cout << "sentinel failover with --redis-wait-replicas 1: new primary after "
              << promoted.count() << " ms\n";

    // Every token answered 200 authenticates through the broker on the promoted replica.
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        INFO("token " << i);
        MqttClient client;
        const auto deadline = Clock::now() + kSwitchTimeout;
        int rc = connect_http(client, broker.port(), fmt::format("device-{}", i), tokens[i]);
        while (rc != 0 && Clock::now() < deadline) {
            std::this_thread::sleep_for(100ms);
            rc = connect_http(client, broker.port(), fmt::format("device-{}", i), tokens[i]);
        }
        CHECK(rc == 0);
    }

    // The new primary has no replica yet: tokend refuses writes and says why.
    const Reply lonely = post_until(http, "/v2/tokens/create",
                                    test::create_body(org, "lonely@example.com"), is_unconfirmed);
    TKA_REQUIRE_ERROR(lonely, 503, "temporarily_unavailable", tokend);
    CHECK(is_unconfirmed(lonely));

    // With a replica again, every token refreshes through tokend; the new password works.
    cluster.restart_killed_as_replica();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        INFO("token " << i);
        const Reply refreshed = post_until(
            http, "/v2/tokens/refresh",
            {{"token_id", tokens[i].token_id}, {"current_token_password", tokens[i].password}},
            [](const Reply& r) { return r.status != 503 || is_unconfirmed(r); });
        TKA_REQUIRE_STATUS(refreshed, 200, tokend);
        MqttClient client;
        CHECK(connect_http(client, broker.port(), fmt::format("device-{}-new", i),
                           token_of(refreshed)) == 0);
    }
    CHECK(broker.running());
    CHECK(tokend.process().running());
    INFO(cluster.logs());
    CHECK(cluster.all_running());
}
