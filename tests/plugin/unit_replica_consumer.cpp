// The token replica kept by the event consumer against a real redis-server: full sync of
// tokens minted before start, then events (create, refresh, revoke, org off/on), untrusted
// while the event connection is down and trusted again after a re-sync, the plugin
// answering from memory (counters), the registry heartbeat and lease (registered while
// trusted, removed on stop, lease lapsed while Redis refuses writes, never a lease for a
// read-only ACL user), and the commit -> apply window over >= 1000 events (printed, not
// asserted: the machine is shared). Runs under TSan too ([tsan]).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/crypto.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "common/replica_fence.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "plugin/event_consumer.hpp"
#include "plugin/token_auth_plugin.hpp"
#include "plugin/token_replica.hpp"
#include "tests/support/redis_server.hpp"

using namespace std::chrono_literals;
using tka::plugin::AuthDecision;
using tka::plugin::EventConsumer;
using tka::plugin::EventConsumerOptions;
using tka::plugin::ReplicaAnswer;
using tka::plugin::stream_id_less;
using tka::plugin::TokenReplica;

namespace {

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

EventConsumerOptions options_for(const tka::test::RedisServer& redis, TokenReplica& replica) {
    EventConsumerOptions o;
    o.redis = redis.options();
    o.redis.command_timeout = 1000ms;
    o.block = 200ms;
    o.max_backoff = 200ms;
    o.replica = &replica;
    return o;
}

ReplicaAnswer::Kind ask(TokenReplica& r, const tka::IssuedToken& t) {
    return r.lookup(t.org_id, t.user_id, tka::crypto::sha256(t.password), tka::unix_now()).kind;
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

TEST_CASE("replica consumer: sync at start, then every event kind",
          "[plugin][replica][redis][tsan]") {
    tka::test::RedisServer redis;
    auto admin = redis.connect();
    tka::OrgStore orgs(admin);
    tka::TokenStore tokens(admin);
    const auto org = orgs.create("acme", 3600, true, tka::unix_now()).org;
    const auto off_org = orgs.create("off", 3600, true, tka::unix_now()).org;
    const auto alice = tokens.create(org, "alice@example.com", true, tka::unix_now());
    const auto dead = tokens.create(org, "dead@example.com", true, tka::unix_now());
    tokens.revoke(org.org_id, dead.token_id, tka::unix_now());
    const auto carol = tokens.create(off_org, "carol@example.com", true, tka::unix_now());
    orgs.update(off_org.org_id, std::nullopt, false);

    TokenReplica replica;
    EventConsumer consumer(options_for(redis, replica));
    consumer.start();
    REQUIRE(wait_for([&] { return replica.trusted(); }, 10s));
    CHECK(replica.stats().entries == 2);  // alice and carol; the revoked one is not live
    CHECK(ask(replica, alice) == ReplicaAnswer::Kind::allow);
    CHECK(ask(replica, dead) == ReplicaAnswer::Kind::miss);
    CHECK(ask(replica, carol) == ReplicaAnswer::Kind::token_auth_off);

    // Events after the sync.
    const auto bob = tokens.create(org, "bob@example.com", true, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, bob) == ReplicaAnswer::Kind::allow; }, 5s));

    const auto bob2 = tokens.refresh(bob.token_id, bob.password, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, bob2) == ReplicaAnswer::Kind::allow; }, 5s));
    CHECK(ask(replica, bob) == ReplicaAnswer::Kind::miss);

    tokens.revoke(org.org_id, alice.token_id, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, alice) == ReplicaAnswer::Kind::miss; }, 5s));

    orgs.update(off_org.org_id, std::nullopt, true);
    REQUIRE(wait_for([&] { return ask(replica, carol) == ReplicaAnswer::Kind::allow; }, 5s));

    // Replace: the new token is in, the replaced one is gone.
    const auto bob3 = tokens.create(org, "bob@example.com", true, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, bob3) == ReplicaAnswer::Kind::allow; }, 5s));
    CHECK(ask(replica, bob2) == ReplicaAnswer::Kind::miss);
    consumer.stop();
}

TEST_CASE("replica consumer: untrusted while the event connection is down, re-synced after",
          "[plugin][replica][redis][tsan]") {
    tka::test::RedisServer redis;
    std::optional<tka::IssuedToken> alice;
    {
        auto admin = redis.connect();
        tka::OrgStore orgs(admin);
        tka::TokenStore tokens(admin);
        const auto org = orgs.create("acme", 3600, true, tka::unix_now()).org;
        alice = tokens.create(org, "alice@example.com", true, tka::unix_now());
    }
    TokenReplica replica;
    EventConsumer consumer(options_for(redis, replica));
    consumer.start();
    REQUIRE(wait_for([&] { return replica.trusted(); }, 10s));
    CHECK(ask(replica, *alice) == ReplicaAnswer::Kind::allow);

    redis.stop();
    REQUIRE(wait_for([&] { return !replica.trusted(); }, 5s));
    CHECK(ask(replica, *alice) == ReplicaAnswer::Kind::untrusted);

    redis.start();  // empty: the re-sync must forget alice
    REQUIRE(wait_for([&] { return replica.trusted(); }, 10s));
    CHECK(replica.stats().entries == 0);
    CHECK(ask(replica, *alice) == ReplicaAnswer::Kind::miss);

    // And it follows the new stream.
    auto admin = redis.connect();
    tka::OrgStore orgs(admin);
    tka::TokenStore tokens(admin);
    const auto org = orgs.create("acme", 3600, true, tka::unix_now()).org;
    const auto bob = tokens.create(org, "bob@example.com", true, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, bob) == ReplicaAnswer::Kind::allow; }, 5s));

    const auto out = consumer.drain();
    std::size_t trusted_lines = 0;
    std::size_t untrusted_lines = 0;
    for (const auto& [level, msg] : out.logs) {
        trusted_lines += msg.find("token replica trusted") != std::string::npos ? 1 : 0;
        untrusted_lines += msg.find("token replica untrusted") != std::string::npos ? 1 : 0;
    }
    CHECK(trusted_lines == 2);
    CHECK(untrusted_lines == 1);
    consumer.stop();
}

TEST_CASE("replica consumer: registered with a lease while trusted, deregistered on stop",
          "[plugin][replica][redis][lease][tsan]") {
    tka::test::RedisServer redis;
    auto admin = redis.connect();
    tka::OrgStore orgs(admin);
    const auto org = orgs.create("acme", 3600, true, tka::unix_now()).org;
    std::vector<tka::FenceResult> fences;
    tka::TokenStore tokens(admin, [&fences](const tka::FenceResult& r) { fences.push_back(r); });
    const auto alice = tokens.create(org, "alice@example.com", true, tka::unix_now());

    TokenReplica replica;
    EventConsumer consumer(options_for(redis, replica));
    REQUIRE(consumer.replica_id().size() == 16);
    consumer.start();
    REQUIRE(wait_for([&] { return replica.trusted(); }, 10s));
    const auto score = admin.command({"ZSCORE", tka::keys::replicas(), consumer.replica_id()});
    CHECK_FALSE(score.is_nil());

    // A refresh waits for this replica: when it returns, the old password is gone here.
    const auto alice2 = tokens.refresh(alice.token_id, alice.password, tka::unix_now());
    CHECK(ask(replica, alice) != ReplicaAnswer::Kind::allow);
    CHECK(ask(replica, alice2) == ReplicaAnswer::Kind::allow);
    REQUIRE(fences.size() == 1);
    CHECK_FALSE(fences[0].timed_out);
    const auto applied =
        admin.command({"HGET", tka::keys::replicas_applied(), consumer.replica_id()});
    CHECK_FALSE(stream_id_less(applied.str, fences[0].target));
    std::cout << "fence with one live replica (consumer thread, no broker): "
              << std::chrono::duration_cast<std::chrono::microseconds>(fences[0].waited).count()
              << " us in " << fences[0].round_trips << " round trip(s)\n";

    consumer.stop();
    CHECK_FALSE(replica.trusted());
    CHECK(ask(replica, alice2) == ReplicaAnswer::Kind::untrusted);
    CHECK(admin.command({"ZSCORE", tka::keys::replicas(), consumer.replica_id()}).is_nil());
    CHECK(
        admin.command({"HEXISTS", tka::keys::replicas_applied(), consumer.replica_id()}).integer ==
        0);
    // Nobody registered: the next fence is one round trip.
    tokens.revoke(org.org_id, alice2.token_id, tka::unix_now());
    REQUIRE(fences.size() == 2);
    CHECK(fences[1].round_trips == 1);
}

TEST_CASE("replica consumer: the lease lapses while Redis refuses the heartbeat",
          "[plugin][replica][redis][lease]") {
    tka::test::RedisServer redis;
    auto admin = redis.connect();
    const auto org = tka::OrgStore(admin).create("acme", 3600, true, tka::unix_now()).org;
    const auto alice =
        tka::TokenStore(admin).create(org, "alice@example.com", true, tka::unix_now());
    TokenReplica replica;
    EventConsumer consumer(options_for(redis, replica));
    consumer.start();
    REQUIRE(wait_for([&] { return replica.trusted(); }, 10s));
    REQUIRE(ask(replica, alice) == ReplicaAnswer::Kind::allow);

    // Writes (scripts included) wait; reads do not: the consumer's XREAD still returns.
    admin.command({"CLIENT", "PAUSE", "4000", "WRITE"}).expect_ok("CLIENT PAUSE");
    CHECK(wait_for([&] { return ask(replica, alice) == ReplicaAnswer::Kind::untrusted; }, 3500ms));
    admin.command({"CLIENT", "UNPAUSE"}).expect_ok("CLIENT UNPAUSE");
    CHECK(wait_for([&] { return ask(replica, alice) == ReplicaAnswer::Kind::allow; }, 10s));
    consumer.stop();
}

TEST_CASE("replica consumer: a read-only Redis user gets no lease, and a warning once",
          "[plugin][replica][redis][lease]") {
    tka::test::RedisServer redis;
    auto admin = redis.connect();
    admin.command({"ACL", "SETUSER", "reader", "on", ">reader-pw", "~*", "+@all", "-@write"})
        .expect_ok("ACL SETUSER");
    const auto org = tka::OrgStore(admin).create("acme", 3600, true, tka::unix_now()).org;
    const auto alice =
        tka::TokenStore(admin).create(org, "alice@example.com", true, tka::unix_now());
    TokenReplica replica;
    auto options = options_for(redis, replica);
    options.redis.endpoint.username = "reader";
    options.redis.endpoint.password = "reader-pw";
    EventConsumer consumer(options);
    consumer.start();
    REQUIRE(wait_for([&] { return replica.caught_up(); }, 10s));
    std::this_thread::sleep_for(1s);  // several heartbeats, all refused
    CHECK_FALSE(replica.trusted());
    CHECK(ask(replica, alice) == ReplicaAnswer::Kind::untrusted);
    CHECK(admin.command({"ZCARD", tka::keys::replicas()}).integer == 0);
    const auto out = consumer.drain();
    std::size_t refusals = 0;
    std::size_t trusted_lines = 0;
    for (const auto& [level, msg] : out.logs) {
        if (msg.find("heartbeat refused") != std::string::npos) {
            ++refusals;
            CHECK(level == tka::plugin::LogLevel::warning);
            INFO(msg);
            // Redis 7.0 answers a script's denied write with "ERR The user executing the
            // script can't run this command ..." (NOPERM outside scripts).
            CHECK((msg.find("can't run this command") != std::string::npos ||
                   msg.find("NOPERM") != std::string::npos));
            CHECK(msg.find(tka::keys::replicas()) != std::string::npos);
        }
        trusted_lines += msg.find("token replica trusted") != std::string::npos ? 1 : 0;
    }
    CHECK(refusals == 1);
    CHECK(trusted_lines == 0);
    consumer.stop();
}

TEST_CASE("replica consumer: the plugin answers from memory and counts it",
          "[plugin][replica][redis]") {
    tka::test::RedisServer redis;
    auto admin = redis.connect();
    tka::OrgStore orgs(admin);
    tka::TokenStore tokens(admin);
    const auto org = orgs.create("acme", 3600, true, tka::unix_now()).org;
    const auto before = tokens.create(org, "before@example.com", true, tka::unix_now());

    const auto cache = GENERATE(as<std::string>{}, "on", "off");
    tka::plugin::PluginRuntimeOptions runtime;
    runtime.consumer_block = 200ms;
    tka::plugin::TokenAuthPlugin plugin(
        tka::plugin::parse_options({{"redis_url", redis.url()}, {"cache", cache}}),
        [](tka::plugin::LogLevel, const std::string&) {}, runtime);
    plugin.start();
    REQUIRE(wait_for([&] { return plugin.consumer().positioned(); }, 5s));
    plugin.on_tick(wall_ms());  // the broker's first tick comes before any CONNECT
    if (cache == "on") {
        REQUIRE(plugin.replica() != nullptr);
        REQUIRE(wait_for([&] { return plugin.replica()->trusted(); }, 10s));
    } else {
        CHECK(plugin.replica() == nullptr);
    }
    const auto after = tokens.create(org, "after@example.com", true, tka::unix_now());
    const auto now_ms = [] { return wall_ms(); };
    if (cache == "on") {
        // Wait until the event reached the replica, so the answer comes from memory.
        auto* replica = const_cast<TokenReplica*>(plugin.replica());
        REQUIRE(wait_for([&] { return ask(*replica, after) == ReplicaAnswer::Kind::allow; }, 5s));
    }
    CHECK(plugin.on_basic_auth(1, "a", before.username(), before.password, now_ms()).kind ==
          AuthDecision::Kind::allow);
    CHECK(plugin.on_basic_auth(2, "b", after.username(), after.password, now_ms()).kind ==
          AuthDecision::Kind::allow);
    const std::string wrong = "tkn_" + std::string(43, 'Z');
    CHECK(plugin.on_basic_auth(3, "c", after.username(), wrong, now_ms()).kind ==
          AuthDecision::Kind::deny);

    const auto& c = plugin.counters();
    if (cache == "on") {
        CHECK(c.replica_hits == 2);
        CHECK(c.replica_misses == 1);  // the wrong password: Redis says unknown_token
        // A revoked credential is refused once the consumer thread applied the event,
        // without any TICK in between.
        tokens.revoke(org.org_id, after.token_id, tka::unix_now());
        auto* replica = const_cast<TokenReplica*>(plugin.replica());
        REQUIRE(wait_for([&] { return ask(*replica, after) == ReplicaAnswer::Kind::miss; }, 5s));
        const auto d = plugin.on_basic_auth(4, "d", after.username(), after.password, now_ms());
        CHECK(d.kind == AuthDecision::Kind::deny);
        // Revoking deletes the password lookup: Redis knows the password no more.
        CHECK(d.reason == tka::Refusal::unknown_token);
    } else {
        CHECK(c.replica_hits == 0);
        CHECK(c.replica_fallbacks() == 0);
    }
    plugin.stop();
}

TEST_CASE("replica consumer: commit -> apply window over 1000 events",
          "[plugin][replica][redis][window]") {
    tka::test::RedisServer redis;
    TokenReplica replica;
    std::mutex mutex;
    std::vector<std::int64_t> windows_ms;  // apply wall time - stream id's ms (Redis commit)
    auto options = options_for(redis, replica);
    options.replica_applied = [&](const tka::Event& e) {
        const std::int64_t applied = wall_ms();
        const std::int64_t committed = std::stoll(e.id.substr(0, e.id.find('-')));
        std::lock_guard<std::mutex> lock(mutex);
        windows_ms.push_back(applied - committed);
    };
    EventConsumer consumer(options);
    consumer.start();
    REQUIRE(wait_for([&] { return replica.trusted(); }, 10s));

    constexpr int kEvents = 1200;
    auto producer = redis.connect();
    for (int i = 0; i < kEvents; ++i) {
        // Paced (about one per ms) so the figure is the per-event latency, not a backlog.
        char token[40];
        std::snprintf(token, sizeof token, "00000000-0000-4000-8000-%012d", i);
        producer
            .command({"XADD", tka::keys::events(), "*", "type", "token.created", "org",
                      "org_aaaaaaaaaaaa", "token", token, "user", "0123456789abcdef01234567", "pw",
                      tka::crypto::sha256_hex(token), "exp",
                      std::to_string(tka::unix_now() + 3600)})
            .expect_ok("XADD");
        std::this_thread::sleep_for(1ms);
    }
    REQUIRE(wait_for(
        [&] {
            std::lock_guard<std::mutex> lock(mutex);
            return windows_ms.size() >= static_cast<std::size_t>(kEvents);
        },
        20s));
    consumer.stop();
    std::vector<std::int64_t> w;
    {
        std::lock_guard<std::mutex> lock(mutex);
        w = windows_ms;
    }
    std::sort(w.begin(), w.end());
    const auto pct = [&w](double p) {
        return w[std::min(w.size() - 1,
                          static_cast<std::size_t>(p * static_cast<double>(w.size())))];
    };
    std::cout << "replica commit->apply window over " << w.size() << " events: p50 " << pct(0.50)
              << " ms, p99 " << pct(0.99) << " ms, max " << w.back()
              << " ms (1 ms resolution: the stream id carries whole milliseconds)\n";
    CHECK(replica.stats().entries == static_cast<std::size_t>(kEvents));
}
