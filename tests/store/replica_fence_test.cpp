// The writer side of the replica lease against a real Redis: fake broker registrations
// written straight into tka:replicas / tka:replicas:applied (with Redis's own TIME), and
// what wait_for_replicas and the stores that call it make of them; plus the broker-side
// heartbeat script's answers. Bounds on durations are generous (shared 2-core machine):
// "waits" means at least most of the stale window, "at once" means one round trip.
#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "common/lua_scripts.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "common/replica_fence.hpp"
#include "common/token_store.hpp"
#include "tests/support/redis_server.hpp"

using namespace std::chrono_literals;

namespace {

std::int64_t server_ms(tka::RedisConnection& redis) {
    const auto t = redis.command({"TIME"}).expect_ok("TIME");
    return std::stoll(t.elements[0].str) * 1000 + std::stoll(t.elements[1].str) / 1000;
}

std::string last_id(tka::RedisConnection& redis) {
    const auto top =
        redis.command({"XREVRANGE", tka::keys::events(), "+", "-", "COUNT", "1"}).expect_ok("X");
    return top.elements.empty() ? "0-0" : top.elements[0].elements[0].str;
}

// A broker registration as its heartbeat would write it, `age_ms` old by Redis's clock.
void register_replica(tka::RedisConnection& redis, const std::string& id,
                      const std::string& applied, std::int64_t age_ms) {
    redis.command({"ZADD", tka::keys::replicas(), std::to_string(server_ms(redis) - age_ms), id})
        .expect_ok("ZADD");
    redis.command({"HSET", tka::keys::replicas_applied(), id, applied}).expect_ok("HSET");
}

long long ms_of(std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

struct Fixture {
    tka::test::RedisServer redis;
    tka::RedisConnection admin{redis.connect()};
    tka::Organization org = tka::OrgStore(admin).create("acme", 3600, true, tka::unix_now()).org;
    tka::IssuedToken alice =
        tka::TokenStore(admin).create(org, "alice@example.com", true, tka::unix_now());
};

}  // namespace

TEST_CASE("fence: no registered replica costs one round trip", "[store][fence]") {
    Fixture f;
    const auto r = tka::wait_for_replicas(f.admin);
    CHECK(r.round_trips == 1);
    CHECK_FALSE(r.timed_out);
    CHECK(r.lagging == 0);
    CHECK(r.target == last_id(f.admin));
}

TEST_CASE("fence: Redis failing after the write is an unconfirmed fence, not an error",
          "[store][fence]") {
    tka::test::RedisServer redis;
    tka::RedisConnection conn{redis.connect()};
    REQUIRE(tka::wait_for_replicas(conn).round_trips == 1);
    redis.stop();  // the write has committed, then Redis goes away
    CHECK_THROWS_AS(tka::wait_for_replicas(conn), tka::RedisError);
    int observed = 0;
    tka::FenceResult seen;
    const tka::FenceResult r = tka::fence_replicas(conn, [&](const tka::FenceResult& f) {
        ++observed;
        seen = f;
    });
    CHECK(r.timed_out);
    CHECK_FALSE(r.error.empty());
    // It waited out the bound: every lease granted before the write has lapsed.
    CHECK(r.waited >= tka::kReplicaFenceBound);
    CHECK(observed == 1);
    CHECK(seen.timed_out);
}

TEST_CASE("fence: an empty stream is no target at all", "[store][fence]") {
    tka::test::RedisServer redis;
    auto conn = redis.connect();
    register_replica(conn, "aaaa", "0-0", 0);
    const auto r = tka::wait_for_replicas(conn);
    CHECK(r.round_trips == 1);
    CHECK(r.target == "0-0");
    CHECK_FALSE(r.timed_out);
}

TEST_CASE("fence: an up-to-date replica lets it return at once", "[store][fence]") {
    Fixture f;
    register_replica(f.admin, "up-to-date", last_id(f.admin), 0);
    const auto r = tka::wait_for_replicas(f.admin);
    CHECK(r.round_trips == 1);
    CHECK_FALSE(r.timed_out);
}

TEST_CASE("fence: a registration older than the stale window is ignored", "[store][fence]") {
    Fixture f;
    register_replica(f.admin, "dead-broker", "0-0",
                     tka::kReplicaStaleAfter.count() + 500);  // behind, but stale
    const auto r = tka::wait_for_replicas(f.admin);
    CHECK(r.round_trips == 1);
    CHECK_FALSE(r.timed_out);
    CHECK(r.dropped == 0);  // it was stale before the wait began: not a broker we gave up on
}

TEST_CASE("fence: a fresh lagging replica is waited for until it goes stale", "[store][fence]") {
    Fixture f;
    register_replica(f.admin, "lagging", "1-0", 0);  // fresh, applied far behind
    const auto begin = std::chrono::steady_clock::now();
    const auto r = tka::wait_for_replicas(f.admin);
    const auto took = std::chrono::steady_clock::now() - begin;
    std::cout << "fence with one fresh lagging registration: waited " << ms_of(r.waited)
              << " ms in " << r.round_trips << " round trips\n";
    CHECK(r.timed_out);
    CHECK(r.lagging == 0);
    CHECK(r.dropped == 1);
    // About the stale window (registration age 0): never much less, never beyond the bound
    // by more than scheduling noise.
    CHECK(ms_of(took) >= tka::kReplicaStaleAfter.count() - 300);
    CHECK(ms_of(took) < tka::kReplicaFenceBound.count() + 3000);
    CHECK(r.round_trips > 5);
}

TEST_CASE("fence: a replica that catches up during the wait ends it", "[store][fence]") {
    Fixture f;
    register_replica(f.admin, "slow", "1-0", 0);
    std::thread broker([&f] {
        auto conn = f.redis.connect();
        std::this_thread::sleep_for(100ms);
        // What the broker's next heartbeat writes once it applied the stream's end.
        register_replica(conn, "slow", last_id(conn), 0);
    });
    const auto r = tka::wait_for_replicas(f.admin);
    broker.join();
    CHECK_FALSE(r.timed_out);
    CHECK(r.lagging == 0);
    CHECK(r.dropped == 0);
    CHECK(ms_of(r.waited) < tka::kReplicaStaleAfter.count());
}

TEST_CASE("fence: the stores run it after credential-changing changes and report it",
          "[store][fence]") {
    Fixture f;
    std::vector<tka::FenceResult> seen;
    const tka::FenceObserver observer = [&seen](const tka::FenceResult& r) { seen.push_back(r); };
    tka::TokenStore tokens(f.admin, observer);
    tka::OrgStore orgs(f.admin, observer);

    // Every create fences (brokers refuse passwords their replica does not hold yet).
    const auto bob = tokens.create(f.org, "bob@example.com", true, tka::unix_now());
    CHECK(seen.size() == 1);
    tokens.create(f.org, "bob@example.com", false, tka::unix_now());
    CHECK(seen.size() == 2);
    // Refresh, revoke, replace, revoke by e-mail, token auth on and off.
    const auto alice2 = tokens.refresh(f.alice.token_id, f.alice.password, tka::unix_now());
    CHECK(seen.size() == 3);
    tokens.revoke(f.org.org_id, alice2.token_id, tka::unix_now());
    CHECK(seen.size() == 4);
    tokens.revoke(f.org.org_id, alice2.token_id, tka::unix_now());  // nothing left to revoke
    CHECK(seen.size() == 4);
    tokens.create(f.org, "bob@example.com", true, tka::unix_now());  // replaces two
    CHECK(seen.size() == 5);
    tokens.revoke_email(f.org, "bob@example.com", tka::unix_now());
    CHECK(seen.size() == 6);
    orgs.update(f.org.org_id, 60, std::nullopt);  // TTL only
    CHECK(seen.size() == 6);
    orgs.update(f.org.org_id, std::nullopt, true);
    CHECK(seen.size() == 7);
    orgs.update(f.org.org_id, std::nullopt, false);
    CHECK(seen.size() == 8);
    for (const auto& r : seen) {
        CHECK(r.round_trips == 1);
        CHECK_FALSE(r.timed_out);
    }
    CHECK(seen.back().target == last_id(f.admin));
    (void)bob;

    SECTION("a lagging broker does not fail the write; the observer hears of the timeout") {
        orgs.update(f.org.org_id, std::nullopt, true);
        const auto carol = tokens.create(f.org, "carol@example.com", true, tka::unix_now());
        register_replica(f.admin, "lagging", "1-0", 0);
        const auto carol2 = tokens.refresh(carol.token_id, carol.password, tka::unix_now());
        CHECK(carol2.password != carol.password);
        REQUIRE(seen.size() == 11);
        CHECK(seen.back().timed_out);
    }
}

TEST_CASE("heartbeat script: freshness of the previous registration, stream end, pruning",
          "[store][fence]") {
    Fixture f;
    const auto& hb = tka::scripts::replica_heartbeat();
    const std::vector<std::string> keys = {tka::keys::replicas(), tka::keys::replicas_applied(),
                                           tka::keys::events()};
    const auto beat = [&](const std::string& id, const std::string& applied) {
        return hb.run(f.admin, keys,
                      {id, applied, std::to_string(tka::kReplicaStaleAfter.count()),
                       std::to_string(tka::kReplicaForgetAfter.count())});
    };
    const std::string end = last_id(f.admin);

    auto r = beat("b1", "0-0");  // first heartbeat: no previous registration
    CHECK(r.elements[0].integer == 0);
    CHECK(r.elements[1].str == end);
    CHECK(f.admin.command({"HGET", tka::keys::replicas_applied(), "b1"}).str == "0-0");
    r = beat("b1", end);  // right after: the previous one is fresh
    CHECK(r.elements[0].integer == 1);
    CHECK(f.admin.command({"HGET", tka::keys::replicas_applied(), "b1"}).str == end);

    // A previous registration older than the stale window is a break.
    register_replica(f.admin, "b2", end, tka::kReplicaStaleAfter.count() + 100);
    CHECK(beat("b2", end).elements[0].integer == 0);

    // Registrations older than the forget window are deleted by anyone's heartbeat.
    register_replica(f.admin, "ghost", "1-0", tka::kReplicaForgetAfter.count() + 1000);
    beat("b1", end);
    CHECK(f.admin.command({"ZSCORE", tka::keys::replicas(), "ghost"}).is_nil());
    CHECK(f.admin.command({"HEXISTS", tka::keys::replicas_applied(), "ghost"}).integer == 0);
    CHECK(f.admin.command({"ZCARD", tka::keys::replicas()}).integer == 2);
}
