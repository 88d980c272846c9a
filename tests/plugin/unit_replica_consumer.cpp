// The token replica kept by the event consumer against a real redis-server: full sync of
// tokens minted before start, then events (create, refresh, revoke, org off/on), untrusted
// while the event connection is down and trusted again after a re-sync, the plugin
// answering from memory (counters), the registry heartbeat and lease (registered while
// trusted, removed on stop, lease lapsed while Redis refuses writes, never a lease for a
// read-only ACL user), the commit -> apply window over >= 1000 events (printed, not
// asserted: the machine is shared), and the sync in chunks: an org larger than one chunk
// read whole, the replica untrusted while a sync runs, Redis failing midway and the retry,
// the retry delay growing to its cap, and the sync's log lines. Runs under TSan too ([tsan]).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
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
#include "plugin/replica_sync.hpp"
#include "plugin/token_auth_plugin.hpp"
#include "plugin/token_replica.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/token_loader.hpp"

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
    CHECK(ask(replica, dead) == ReplicaAnswer::Kind::unknown);
    CHECK(ask(replica, carol) == ReplicaAnswer::Kind::token_auth_off);

    // Events after the sync.
    const auto bob = tokens.create(org, "bob@example.com", true, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, bob) == ReplicaAnswer::Kind::allow; }, 5s));

    const auto bob2 = tokens.refresh(bob.token_id, bob.password, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, bob2) == ReplicaAnswer::Kind::allow; }, 5s));
    CHECK(ask(replica, bob) == ReplicaAnswer::Kind::unknown);

    tokens.revoke(org.org_id, alice.token_id, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, alice) == ReplicaAnswer::Kind::unknown; }, 5s));

    orgs.update(off_org.org_id, std::nullopt, true);
    REQUIRE(wait_for([&] { return ask(replica, carol) == ReplicaAnswer::Kind::allow; }, 5s));

    // Replace: the new token is in, the replaced one is gone.
    const auto bob3 = tokens.create(org, "bob@example.com", true, tka::unix_now());
    REQUIRE(wait_for([&] { return ask(replica, bob3) == ReplicaAnswer::Kind::allow; }, 5s));
    CHECK(ask(replica, bob2) == ReplicaAnswer::Kind::unknown);
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
    CHECK(ask(replica, *alice) == ReplicaAnswer::Kind::unknown);

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
    REQUIRE(fences.size() == 1);  // every create fences; nobody registered yet
    fences.clear();

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
        // The wrong password too: the trusted, complete replica refuses it without Redis.
        CHECK(c.replica_hits == 3);
        CHECK(c.replica_fallbacks() == 0);
        // A revoked credential is refused once the consumer thread applied the event,
        // without any TICK in between.
        tokens.revoke(org.org_id, after.token_id, tka::unix_now());
        auto* replica = const_cast<TokenReplica*>(plugin.replica());
        REQUIRE(wait_for([&] { return ask(*replica, after) == ReplicaAnswer::Kind::unknown; }, 5s));
        const auto d = plugin.on_basic_auth(4, "d", after.username(), after.password, now_ms());
        CHECK(d.kind == AuthDecision::Kind::deny);
        // Revoking deletes the password lookup: neither Redis nor the replica knows it.
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

namespace {

// Commands of one kind Redis has served so far (INFO commandstats), e.g. "hgetall".
long long command_calls(tka::RedisConnection& redis, const std::string& command) {
    const std::string info = redis.command({"INFO", "commandstats"}).str;
    std::string needle = "cmdstat_";
    needle.append(command).append(":calls=");
    const auto at = info.find(needle);
    return at == std::string::npos ? 0 : std::stoll(info.substr(at + needle.size()));
}

// Log lines drained so far that contain `needle`.
struct LogBook {
    std::vector<std::pair<tka::plugin::LogLevel, std::string>> lines;
    void take(EventConsumer& consumer) {
        auto out = consumer.drain();
        lines.insert(lines.end(), out.logs.begin(), out.logs.end());
    }
    std::vector<std::string> matching(const std::string& needle) const {
        std::vector<std::string> found;
        for (const auto& [level, msg] : lines) {
            if (msg.find(needle) != std::string::npos) {
                found.push_back(msg);
            }
        }
        return found;
    }
};

// An org with `count` live tokens written by the bulk writer; their credentials in `out`.
tka::Organization bulk_org(tka::RedisConnection& admin, const std::string& name, std::size_t count,
                           std::vector<tka::IssuedToken>& out) {
    const auto org = tka::OrgStore(admin).create(name, 3600, true, tka::unix_now()).org;
    tka::test::BulkLoadOptions load;
    load.email_tag = name;
    tka::test::bulk_create_tokens(
        admin, org, count, tka::unix_now(), load,
        [&out](std::size_t, const tka::IssuedToken& t) { out.push_back(t); });
    return org;
}

}  // namespace

TEST_CASE("replica sync: an org larger than one chunk is read whole, in bounded commands",
          "[plugin][replica][redis][sync]") {
    tka::test::RedisServer redis;
    auto admin = redis.connect();
    std::vector<tka::IssuedToken> big;
    std::vector<tka::IssuedToken> small;
    const auto big_org = bulk_org(admin, "big", 1000, big);
    bulk_org(admin, "small", 3, small);
    // Not live: expired (written as if minted 4000 s ago with a 3600 s TTL) and revoked.
    std::vector<tka::IssuedToken> expired;
    tka::test::BulkLoadOptions old;
    old.email_tag = "old";
    tka::test::bulk_create_tokens(
        admin, big_org, 5, tka::unix_now() - 4000, old,
        [&](std::size_t, const tka::IssuedToken& t) { expired.push_back(t); });
    tka::TokenStore(admin).revoke(big_org.org_id, big[7].token_id, tka::unix_now());
    admin.command({"CONFIG", "RESETSTAT"}).expect_ok("CONFIG RESETSTAT");

    TokenReplica replica(100000);
    tka::plugin::ReplicaSyncOptions options;
    options.scan_count = 50;
    std::size_t chunks = 0;
    options.progress = [&chunks](const tka::plugin::ReplicaSyncResult&) {
        ++chunks;
        return true;
    };
    const auto result = tka::plugin::sync_replica(admin, replica, tka::unix_now(), options);
    REQUIRE(result.has_value());
    CHECK(result->orgs == 2);
    CHECK(result->tokens == 1000 - 1 + 3);
    CHECK(replica.stats().entries == 1000 - 1 + 3);
    // 1000 records: buckets of generations 0..5 (63), one bucket per round trip at this
    // scan_count, every bucket read by one HGETALL.
    CHECK(chunks > 1000 / 50 / 2);
    CHECK(command_calls(admin, "hgetall") >= 63);
    CHECK(command_calls(admin, "zscan") == 0);
    CHECK(command_calls(admin, "smembers") == 0);

    replica.set_trusted(true);
    replica.renew_lease(std::chrono::steady_clock::now() + 10s);
    std::size_t allowed = 0;
    for (std::size_t i = 0; i < big.size(); ++i) {
        allowed += ask(replica, big[i]) == ReplicaAnswer::Kind::allow ? 1 : 0;
    }
    CHECK(allowed == 999);
    // A complete replica refuses what the sync did not bring: no such live token.
    CHECK(ask(replica, big[7]) == ReplicaAnswer::Kind::unknown);
    CHECK(ask(replica, small[2]) == ReplicaAnswer::Kind::allow);
    for (const auto& t : expired) {
        CHECK(ask(replica, t) == ReplicaAnswer::Kind::unknown);
    }

    // Abandoned when the progress callback says so.
    options.progress = [](const tka::plugin::ReplicaSyncResult&) { return false; };
    CHECK_FALSE(tka::plugin::sync_replica(admin, replica, tka::unix_now(), options).has_value());
}

TEST_CASE("replica consumer: a sync is logged (start, progress, completion), untrusted throughout",
          "[plugin][replica][redis][sync][tsan]") {
    tka::test::RedisServer redis;
    std::vector<tka::IssuedToken> tokens;
    {
        auto admin = redis.connect();
        bulk_org(admin, "acme", 600, tokens);
    }
    TokenReplica replica;
    auto options = options_for(redis, replica);
    options.sync_scan_count = 100;
    options.sync_progress_every = 0ms;  // a progress line per chunk
    std::atomic<int> chunks{0};
    std::atomic<int> answered_during_sync{0};
    options.sync_progress = [&](const tka::plugin::ReplicaSyncResult&) {
        ++chunks;
        if (replica.trusted() || ask(replica, tokens.front()) != ReplicaAnswer::Kind::untrusted) {
            ++answered_during_sync;
        }
    };
    EventConsumer consumer(options);
    consumer.start();
    REQUIRE(wait_for([&] { return replica.trusted(); }, 10s));
    CHECK(chunks.load() > 1);
    CHECK(answered_during_sync.load() == 0);
    CHECK(ask(replica, tokens.back()) == ReplicaAnswer::Kind::allow);
    consumer.stop();

    LogBook log;
    log.take(consumer);
    const auto started = log.matching("token replica sync started");
    REQUIRE(started.size() == 1);
    CHECK(started[0].find("attempt") == std::string::npos);
    const auto progress = log.matching("token replica sync: ");
    CHECK(progress.size() == static_cast<std::size_t>(chunks.load()));
    REQUIRE_FALSE(progress.empty());
    CHECK(progress.back().find("600 live token(s) of 1 organization(s) so far") !=
          std::string::npos);
    const auto done = log.matching("token replica synced: ");
    REQUIRE(done.size() == 1);
    INFO(done[0]);
    CHECK(done[0].find("600 live token(s) of 1 organization(s) in ") != std::string::npos);
    CHECK(done[0].find(" s (") != std::string::npos);
    CHECK(log.matching("failed").empty());
    CHECK(log.matching("token replica trusted").size() == 1);
}

TEST_CASE("replica consumer: Redis fails midway through a sync, the retry succeeds",
          "[plugin][replica][redis][sync]") {
    tka::test::RedisServer redis;
    std::vector<tka::IssuedToken> tokens;
    {
        auto admin = redis.connect();
        bulk_org(admin, "acme", 1000, tokens);
    }
    TokenReplica replica;
    auto options = options_for(redis, replica);
    options.sync_scan_count = 100;
    options.sync_retry_min = 100ms;
    auto killer = redis.connect();  // used only on the consumer thread, in the hook
    std::atomic<int> calls{0};
    std::atomic<int> answered_during_sync{0};
    options.sync_progress = [&](const tka::plugin::ReplicaSyncResult&) {
        if (replica.trusted() || ask(replica, tokens.front()) != ReplicaAnswer::Kind::untrusted) {
            ++answered_during_sync;
        }
        if (++calls == 3) {  // a few chunks in: every other client loses its connection
            killer.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"})
                .expect_ok("CLIENT KILL");
        }
    };
    EventConsumer consumer(options);
    consumer.start();
    REQUIRE(wait_for([&] { return replica.trusted(); }, 20s));
    CHECK(answered_during_sync.load() == 0);
    CHECK(replica.stats().entries == 1000);
    std::size_t allowed = 0;
    for (const auto& t : tokens) {
        allowed += ask(replica, t) == ReplicaAnswer::Kind::allow ? 1 : 0;
    }
    CHECK(allowed == 1000);
    consumer.stop();

    LogBook log;
    log.take(consumer);
    const auto failed = log.matching("token replica sync failed after ");
    REQUIRE(failed.size() == 1);
    INFO(failed[0]);
    CHECK(failed[0].find("attempt 1, next in 0.1 s") != std::string::npos);
    CHECK(failed[0].find("token CONNECTs are checked in Redis meanwhile") != std::string::npos);
    const auto started = log.matching("token replica sync started");
    REQUIRE(started.size() == 2);
    CHECK(started[1].find("(attempt 2)") != std::string::npos);
    const auto done = log.matching("token replica synced: ");
    REQUIRE(done.size() == 1);
    CHECK(done[0].find("1000 live token(s) of 1 organization(s)") != std::string::npos);
    CHECK(log.matching("event stream lost").empty());  // one failure, one line
}

TEST_CASE("replica consumer: a sync that keeps failing is retried with a growing, capped delay",
          "[plugin][replica][redis][sync]") {
    tka::test::RedisServer redis;
    auto admin = redis.connect();
    // The broker's Redis user may not run HGETALL (yet): every sync fails at its first
    // bucket read.
    admin.command({"ACL", "SETUSER", "broker", "on", ">broker-pw", "~*", "&*", "+@all", "-hgetall"})
        .expect_ok("ACL SETUSER");
    std::vector<tka::IssuedToken> tokens;
    bulk_org(admin, "acme", 10, tokens);
    TokenReplica replica;
    auto options = options_for(redis, replica);
    options.redis.endpoint.username = "broker";
    options.redis.endpoint.password = "broker-pw";
    options.sync_retry_min = 100ms;
    options.sync_retry_max = 400ms;
    EventConsumer consumer(options);
    consumer.start();
    LogBook log;
    REQUIRE(wait_for(
        [&] {
            log.take(consumer);
            return log.matching("token replica sync failed").size() >= 5;
        },
        20s));
    CHECK_FALSE(replica.trusted());
    CHECK(ask(replica, tokens[0]) == ReplicaAnswer::Kind::untrusted);
    const auto failed = log.matching("token replica sync failed");
    const char* expected[] = {"attempt 1, next in 0.1 s", "attempt 2, next in 0.2 s",
                              "attempt 3, next in 0.4 s", "attempt 4, next in 0.4 s",
                              "attempt 5, next in 0.4 s"};
    for (std::size_t i = 0; i < 5; ++i) {
        INFO(failed[i]);
        CHECK(failed[i].find(expected[i]) != std::string::npos);
        CHECK(failed[i].find("hgetall") != std::string::npos);  // the reason Redis gave
    }
    CHECK(log.matching("event stream lost").empty());

    admin.command({"ACL", "SETUSER", "broker", "+hgetall"}).expect_ok("ACL SETUSER");
    REQUIRE(wait_for([&] { return replica.trusted(); }, 10s));
    CHECK(ask(replica, tokens[0]) == ReplicaAnswer::Kind::allow);
    consumer.stop();
}
