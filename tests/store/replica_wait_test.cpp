// --redis-wait-replicas against a real primary and a real replica (REPLICAOF): with one
// replica in sync, WAIT 1 confirms every write of the stores and the replica already holds
// it when the call returns; asking for two replicas fails every write with the message the
// programs show (common/replica_wait.hpp).
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "common/org_store.hpp"
#include "common/replica_wait.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "tests/support/redis_server.hpp"

using namespace std::chrono_literals;
using tka::test::RedisServer;

namespace {

// Makes `replica` a replica of `primary` and waits until its link is up.
void replicate(const RedisServer& primary, const RedisServer& replica) {
    // Full sync at once instead of after Redis's default 5 s diskless-sync delay.
    REQUIRE(primary.connect().command({"CONFIG", "SET", "repl-diskless-sync-delay", "0"}).str ==
            "OK");
    auto conn = replica.connect();
    REQUIRE(conn.command({"REPLICAOF", "127.0.0.1", std::to_string(primary.port())}).str == "OK");
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (conn.command({"INFO", "replication"}).str.find("master_link_status:up") ==
           std::string::npos) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(20ms);
    }
}

tka::RedisOptions waiting(const RedisServer& primary, int replicas,
                          std::chrono::milliseconds timeout) {
    tka::RedisOptions o = primary.options();
    o.wait_replicas = replicas;
    o.wait_timeout = timeout;
    return o;
}

}  // namespace

TEST_CASE("WAIT 1 with a live replica: every write succeeds and the replica holds it",
          "[replica_wait]") {
    RedisServer primary;
    RedisServer replica;
    replicate(primary, replica);
    tka::RedisConnection db(waiting(primary, 1, 2000ms));
    tka::OrgStore orgs(db);
    tka::TokenStore tokens(db);
    auto on_replica = replica.connect();
    tka::TokenStore replica_tokens(on_replica);
    tka::OrgStore replica_orgs(on_replica);
    const auto now = tka::unix_now();

    const auto org = orgs.create("acme", 3600, true, now).org;
    CHECK(replica_orgs.get(org.org_id).name == "acme");
    const auto alice = tokens.create(org, "alice@example.com", true, now);
    CHECK(replica_tokens.get(org.org_id, alice.token_id, now).has_value());
    const auto refreshed = tokens.refresh(alice.token_id, alice.password, now);
    CHECK(replica_tokens.get(org.org_id, alice.token_id, now)->refreshed_at == now);
    CHECK(orgs.update(org.org_id, 600, std::nullopt).ttl == 600);
    CHECK(replica_orgs.get(org.org_id).ttl == 600);
    CHECK(tokens.revoke(org.org_id, refreshed.token_id, now).size() == 1);
    CHECK(replica_tokens.get(org.org_id, alice.token_id, now)->status == "revoked");
}

TEST_CASE("WAIT 2 with one replica: writes fail saying they were not confirmed", "[replica_wait]") {
    RedisServer primary;
    RedisServer replica;
    replicate(primary, replica);
    tka::RedisConnection admin = primary.connect();
    const auto now = tka::unix_now();
    const auto org = tka::OrgStore(admin).create("acme", 3600, true, now).org;

    tka::RedisConnection db(waiting(primary, 2, 100ms));
    tka::OrgStore orgs(db);
    tka::TokenStore tokens(db);
    // (How many acknowledged within 100 ms depends on when the replica's ACK arrives.)
    const auto message =
        Catch::Matchers::StartsWith("the write was not confirmed by 2 replicas within 100 ms (");
    CHECK_THROWS_AS(tokens.create(org, "alice@example.com", true, now), tka::ReplicaWaitError);
    CHECK_THROWS_WITH(tokens.create(org, "bob@example.com", true, now), message);
    CHECK_THROWS_WITH(orgs.update(org.org_id, std::nullopt, false), message);
    // A failure of WAIT is not a broken connection: the next command works.
    CHECK(db.command({"PING"}).str == "PONG");
}
