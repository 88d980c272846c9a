// RedisConnection against a real redis-server: replies, error replies, pipelines, outage
// with fast failure during backoff, and recovery without a new object.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "common/redis.hpp"
#include "tests/support/redis_server.hpp"

using namespace std::chrono_literals;

TEST_CASE("commands, error replies and pipelines on a live Redis") {
    tka::test::RedisServer server;
    auto redis = server.connect();

    CHECK(redis.command({"SET", "k", std::string("bin\0ary", 7)}).str == "OK");
    CHECK(redis.command({"GET", "k"}).str == std::string("bin\0ary", 7));
    CHECK(redis.command({"GET", "missing"}).is_nil());

    auto err = redis.command({"INCR", "k"});
    CHECK(err.is_error());
    CHECK_THROWS_AS(err.expect_ok("incr"), tka::RedisError);
    // An error reply leaves the connection usable.
    CHECK(redis.command({"PING"}).str == "PONG");

    auto replies = redis.pipeline({{"RPUSH", "l", "a", "b"}, {"LRANGE", "l", "0", "-1"}});
    REQUIRE(replies.size() == 2);
    CHECK(replies[0].integer == 2);
    REQUIRE(replies[1].elements.size() == 2);
    CHECK(replies[1].elements[1].str == "b");
}

TEST_CASE("a dead Redis fails fast and the same connection recovers when it is back") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    REQUIRE(redis.command({"PING"}).str == "PONG");

    server.stop();
    CHECK_THROWS_AS(redis.command({"PING"}), tka::RedisError);
    CHECK_FALSE(redis.connected());
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(redis.command({"PING"}), tka::RedisError);  // within backoff: no I/O
    CHECK(std::chrono::steady_clock::now() - start < 1s);

    server.start();
    bool recovered = false;
    for (int i = 0; i < 100 && !recovered; ++i) {
        try {
            recovered = redis.command({"PING"}).str == "PONG";
        } catch (const tka::RedisError&) {
            std::this_thread::sleep_for(50ms);
        }
    }
    CHECK(recovered);
}

TEST_CASE("password and database from the URL are applied on connect") {
    tka::test::RedisServer server;
    auto admin = server.connect();
    REQUIRE(admin.command({"CONFIG", "SET", "requirepass", "s3cret"}).str == "OK");

    tka::RedisOptions opts = server.options();
    opts.endpoint =
        tka::parse_redis_url("redis://:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/3");
    tka::RedisConnection redis(opts);
    CHECK(redis.command({"SET", "in-db-3", "x"}).str == "OK");

    opts.endpoint.password = "wrong";
    tka::RedisConnection bad(opts);
    try {
        bad.command({"PING"});
        FAIL("AUTH with a wrong password must fail");
    } catch (const tka::RedisError& e) {
        CHECK(std::string(e.what()).find("wrong") == std::string::npos);
    }
}
