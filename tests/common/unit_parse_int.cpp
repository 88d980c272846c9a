// Unit tests of common/parse_int (the one integer parser for option values) and of the
// --redis-wait-* value checks built on it (common/replica_wait.hpp).
#include "common/parse_int.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "common/replica_wait.hpp"

using tka::parse_int;

TEST_CASE("parse_int accepts a whole decimal number within the range", "[parse_int]") {
    CHECK(parse_int("0", 0, 10) == 0);
    CHECK(parse_int("10", 0, 10) == 10);
    CHECK(parse_int("-5", -10, 10) == -5);
    CHECK(parse_int("9223372036854775807", 0, INT64_MAX) == INT64_MAX);
}

TEST_CASE("parse_int refuses anything else", "[parse_int]") {
    const std::string text = GENERATE(as<std::string>{}, "", " 1", "1 ", "+1", "1.0", "1e3", "0x10",
                                      "abc", "11", "-1", "99999999999999999999");
    INFO("'" << text << "'");
    CHECK_FALSE(parse_int(text, 0, 10).has_value());
}

TEST_CASE("the redis-wait values are checked with a message naming the option",
          "[parse_int][replica_wait]") {
    CHECK(tka::parse_wait_replicas("--redis-wait-replicas", "0") == 0);
    CHECK(tka::parse_wait_replicas("--redis-wait-replicas", "2") == 2);
    CHECK(tka::parse_wait_ms("--redis-wait-ms", "250") == std::chrono::milliseconds(250));
    CHECK_THROWS_WITH(tka::parse_wait_replicas("--redis-wait-replicas", "-1"),
                      "--redis-wait-replicas must be a whole number of replicas from 0 to 64");
    CHECK_THROWS_WITH(tka::parse_wait_replicas("--redis-wait-replicas", "two"),
                      "--redis-wait-replicas must be a whole number of replicas from 0 to 64");
    // 0 would make Redis wait forever.
    CHECK_THROWS_WITH(tka::parse_wait_ms("--redis-wait-ms", "0"),
                      "--redis-wait-ms must be a whole number of milliseconds from 1 to 60000");
    CHECK_THROWS_AS(tka::parse_wait_ms("plugin_opt_x", "60001"), std::invalid_argument);
}

TEST_CASE("the not-replicated message says how many, how long and how many answered",
          "[replica_wait]") {
    CHECK(tka::not_replicated_message(1, std::chrono::milliseconds(500), 0) ==
          "the write was not confirmed by 1 replica within 500 ms (0 acknowledged)");
    CHECK(tka::not_replicated_message(2, std::chrono::milliseconds(100), 1) ==
          "the write was not confirmed by 2 replicas within 100 ms (1 acknowledged)");
}
