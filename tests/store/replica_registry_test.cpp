// The Brokers page's data against a real Redis: registrations written by hand into
// tka:replicas / tka:replicas:applied (scores from Redis's own TIME, as the brokers'
// heartbeat writes them) and entries with chosen ids in the event stream; what
// read_replica_registry makes of them: ages, fresh or stale, lag in events and ms, order.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/redis_keys.hpp"
#include "common/replica_lease.hpp"
#include "common/replica_registry.hpp"
#include "tests/support/redis_server.hpp"

namespace {

std::int64_t server_ms(tka::RedisConnection& redis) {
    const auto t = redis.command({"TIME"}).expect_ok("TIME");
    return std::stoll(t.elements[0].str) * 1000 + std::stoll(t.elements[1].str) / 1000;
}

// A registration `age_ms` old by Redis's clock; no applied id when `applied` is empty.
void register_replica(tka::RedisConnection& redis, const std::string& id,
                      const std::string& applied, std::int64_t age_ms) {
    redis.command({"ZADD", tka::keys::replicas(), std::to_string(server_ms(redis) - age_ms), id})
        .expect_ok("ZADD");
    if (!applied.empty()) {
        redis.command({"HSET", tka::keys::replicas_applied(), id, applied}).expect_ok("HSET");
    }
}

void add_events(tka::RedisConnection& redis, const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
        redis.command({"XADD", tka::keys::events(), id, "type", "org.updated", "org", "org_x"})
            .expect_ok("XADD");
    }
}

const tka::ReplicaStatus& replica(const tka::ReplicaRegistry& r, const std::string& id) {
    for (const auto& s : r.replicas) {
        if (s.replica_id == id) {
            return s;
        }
    }
    FAIL("no replica " << id);
    throw std::logic_error("unreachable");
}

struct Fixture {
    tka::test::RedisServer server;
    tka::RedisConnection redis{server.connect()};
};

}  // namespace

TEST_CASE("registry: nothing registered and an empty stream", "[store][registry]") {
    Fixture f;
    const std::int64_t before = server_ms(f.redis);
    const tka::ReplicaRegistry r = tka::read_replica_registry(f.redis);
    CHECK(r.replicas.empty());
    CHECK(r.stream_last_id.empty());
    CHECK(r.server_now_ms >= before);
    CHECK(r.server_now_ms < before + 5000);
}

TEST_CASE("registry: ages, freshness, lag and order", "[store][registry]") {
    Fixture f;
    add_events(f.redis, {"1000-0", "1000-1", "2000-0", "3500-0", "5000-0"});
    register_replica(f.redis, "in-sync", "5000-0", 100);
    register_replica(f.redis, "behind", "2000-0", 300);
    register_replica(f.redis, "stale", "1000-0", 3000);
    register_replica(f.redis, "silent", "", 50);
    register_replica(f.redis, "future", "9000-0", 200);  // ahead of what this stream holds

    const tka::ReplicaRegistry r = tka::read_replica_registry(f.redis);
    CHECK(r.stream_last_id == "5000-0");
    REQUIRE(r.replicas.size() == 5);
    // Most recent heartbeat first.
    CHECK(r.replicas[0].replica_id == "silent");
    CHECK(r.replicas[1].replica_id == "in-sync");
    CHECK(r.replicas[2].replica_id == "future");
    CHECK(r.replicas[3].replica_id == "behind");
    CHECK(r.replicas[4].replica_id == "stale");

    const auto& in_sync = replica(r, "in-sync");
    CHECK(in_sync.applied_id == "5000-0");
    CHECK(in_sync.lag_events == 0);
    CHECK(in_sync.lag_ms == 0);
    CHECK(in_sync.fresh);
    // Generous upper bounds: the shared machine may pause between write and read.
    CHECK(in_sync.heartbeat_age_ms >= 100);
    CHECK(in_sync.heartbeat_age_ms < 1100);
    CHECK(in_sync.heartbeat_ms == r.server_now_ms - in_sync.heartbeat_age_ms);

    const auto& behind = replica(r, "behind");
    CHECK(behind.lag_events == 2);  // 3500-0 and 5000-0
    CHECK(behind.lag_ms == 3000);
    CHECK(behind.fresh);

    const auto& stale = replica(r, "stale");
    CHECK(stale.lag_events == 4);
    CHECK(stale.lag_ms == 4000);
    CHECK_FALSE(stale.fresh);
    CHECK(stale.heartbeat_age_ms >= 3000);

    const auto& silent = replica(r, "silent");
    CHECK(silent.applied_id.empty());
    CHECK_FALSE(silent.lag_events.has_value());
    CHECK(silent.lag_ms == 0);
    CHECK(silent.fresh);

    const auto& future = replica(r, "future");
    CHECK(future.lag_events == 0);
    CHECK(future.lag_ms == 0);
}

TEST_CASE("registry: an applied id trimmed out of the stream has an unknown lag",
          "[store][registry]") {
    Fixture f;
    add_events(f.redis, {"1000-0", "2000-0", "3000-0", "4000-0"});
    f.redis.command({"XTRIM", tka::keys::events(), "MAXLEN", "2"}).expect_ok("XTRIM");
    register_replica(f.redis, "old", "1000-0", 10);
    register_replica(f.redis, "first-kept", "3000-0", 20);
    const tka::ReplicaRegistry r = tka::read_replica_registry(f.redis);
    CHECK_FALSE(replica(r, "old").lag_events.has_value());
    CHECK(replica(r, "old").lag_ms == 3000);  // the ids still tell the time behind
    CHECK(replica(r, "first-kept").lag_events == 1);
}

TEST_CASE("registry: lag is counted up to kLagCountLimit", "[store][registry]") {
    Fixture f;
    add_events(f.redis, {"1-0"});
    std::vector<std::vector<std::string>> adds;
    for (std::int64_t i = 0; i < tka::kLagCountLimit + 10; ++i) {
        adds.push_back({"XADD", tka::keys::events(), "*", "type", "org.updated", "org", "org_x"});
    }
    for (const auto& reply : f.redis.pipeline(adds)) {
        reply.expect_ok("XADD");
    }
    register_replica(f.redis, "far-behind", "1-0", 10);
    register_replica(f.redis, "also", "1-0", 20);  // same applied id: counted once
    const tka::ReplicaRegistry r = tka::read_replica_registry(f.redis);
    CHECK(replica(r, "far-behind").lag_events == tka::kLagCountLimit);
    CHECK(replica(r, "also").lag_events == tka::kLagCountLimit);
    CHECK(replica(r, "far-behind").lag_ms > 0);
}

TEST_CASE("registry: freshness follows kReplicaStaleAfter", "[store][registry]") {
    Fixture f;
    const std::int64_t stale_after = tka::kReplicaStaleAfter.count();
    register_replica(f.redis, "just-stale", "", stale_after + 1);
    register_replica(f.redis, "fresh", "", stale_after - 1000);
    const tka::ReplicaRegistry r = tka::read_replica_registry(f.redis);
    CHECK_FALSE(replica(r, "just-stale").fresh);
    CHECK(replica(r, "fresh").fresh);
}
