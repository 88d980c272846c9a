// The event consumer against a real redis-server: where it starts reading, order of
// delivery, the hand-over queue under concurrency (run under TSan too) and its bound for
// events and re-validation verdicts, reconnection with a snapshot request, and a prompt stop.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "common/redis_keys.hpp"
#include "plugin/event_consumer.hpp"
#include "tests/support/numbered.hpp"
#include "tests/support/redis_server.hpp"

using namespace std::chrono_literals;
using tka::Event;
using tka::plugin::ConsumerItem;
using tka::plugin::ConsumerOutput;
using tka::plugin::EventConsumer;
using tka::plugin::EventConsumerOptions;
using tka::plugin::TokenVerdict;
using tka::test::numbered;

namespace {

EventConsumerOptions options_for(const tka::test::RedisServer& redis) {
    EventConsumerOptions o;
    o.redis = redis.options();
    o.redis.command_timeout = 1000ms;
    o.block = 200ms;
    o.max_backoff = 200ms;
    return o;
}

void add_revoked(tka::RedisConnection& c, const std::string& token) {
    c.command({"XADD", tka::keys::events(), "*", "type", "token.revoked", "org", "org_aaaaaaaaaaaa",
               "token", token, "user", "user00000000", "reason", "revoked"})
        .expect_ok("XADD");
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

std::vector<std::string> token_ids(const std::vector<ConsumerItem>& items) {
    std::vector<std::string> out;
    for (const auto& item : items) {
        if (const auto* e = std::get_if<Event>(&item)) {
            out.push_back(e->token_id);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("consumer: starts at the end of the stream and delivers in order",
          "[plugin][consumer][redis]") {
    tka::test::RedisServer redis;
    auto conn = redis.connect();
    add_revoked(conn, "before-start");

    EventConsumer consumer(options_for(redis));
    consumer.start();
    REQUIRE(wait_for([&] { return consumer.positioned(); }, 5s));
    add_revoked(conn, "first");
    add_revoked(conn, "second");
    conn.command({"XADD", tka::keys::events(), "*", "type", "no.such.type"});  // skipped
    add_revoked(conn, "third");

    std::vector<ConsumerItem> items;
    REQUIRE(wait_for(
        [&] {
            auto out = consumer.drain();
            for (auto& i : out.items) {
                items.push_back(std::move(i));
            }
            return items.size() >= 3;
        },
        5s));
    CHECK(token_ids(items) == std::vector<std::string>{"first", "second", "third"});
    const auto& e = std::get<Event>(items.front());
    CHECK(e.type == Event::Type::token_revoked);
    CHECK(e.reason == "revoked");
}

TEST_CASE("consumer: stop returns within about one block interval", "[plugin][consumer][redis]") {
    tka::test::RedisServer redis;
    auto options = options_for(redis);
    options.block = 1000ms;
    EventConsumer consumer(options);
    consumer.start();
    REQUIRE(wait_for([&] { return consumer.positioned(); }, 5s));
    std::this_thread::sleep_for(100ms);  // inside a blocking XREAD now
    const auto t0 = std::chrono::steady_clock::now();
    consumer.stop();
    CHECK(std::chrono::steady_clock::now() - t0 < 2500ms);
}

TEST_CASE("consumer: stop is prompt while Redis is down", "[plugin][consumer][redis]") {
    tka::test::RedisServer redis;
    auto options = options_for(redis);
    options.max_backoff = 5000ms;
    EventConsumer consumer(options);
    redis.stop();
    consumer.start();
    std::this_thread::sleep_for(500ms);
    const auto t0 = std::chrono::steady_clock::now();
    consumer.stop();
    CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
    const auto out = consumer.drain();
    REQUIRE_FALSE(out.logs.empty());
    CHECK(out.logs.front().second.find("event stream lost") != std::string::npos);
}

TEST_CASE("consumer: hand-over queue under a concurrent producer and drainer",
          "[plugin][consumer][redis][tsan]") {
    tka::test::RedisServer redis;
    EventConsumer consumer(options_for(redis));
    consumer.start();
    REQUIRE(wait_for([&] { return consumer.positioned(); }, 5s));

    constexpr int kEvents = 2000;
    std::thread producer([&] {
        auto c = redis.connect();
        for (int i = 0; i < kEvents; ++i) {
            add_revoked(c, numbered("t", i));
        }
    });
    std::vector<std::string> got;
    const bool all = wait_for(
        [&] {
            for (auto& id : token_ids(consumer.drain().items)) {
                got.push_back(std::move(id));
            }
            return got.size() >= static_cast<std::size_t>(kEvents);
        },
        20s);
    producer.join();
    REQUIRE(all);
    REQUIRE(got.size() == static_cast<std::size_t>(kEvents));
    for (int i = 0; i < kEvents; ++i) {
        REQUIRE(got[static_cast<std::size_t>(i)] == numbered("t", i));
    }
}

TEST_CASE("consumer: after a lost connection it catches up and asks for a snapshot",
          "[plugin][consumer][redis]") {
    tka::test::RedisServer redis;
    EventConsumer consumer(options_for(redis));
    consumer.start();
    REQUIRE(wait_for([&] { return consumer.positioned(); }, 5s));
    CHECK_FALSE(consumer.drain().wants_snapshot);

    redis.stop();
    std::this_thread::sleep_for(400ms);
    redis.start();  // empty again: no persistence

    bool wants = false;
    REQUIRE(wait_for(
        [&] {
            wants = wants || consumer.drain().wants_snapshot;
            return wants;
        },
        10s));
    CHECK(consumer.reconnects() >= 1);

    // The tokens in use are checked against Redis: this one is gone.
    consumer.provide_snapshot(
        {{"org_aaaaaaaaaaaa", "0b9c6a4e-6a43-4b53-9d5e-111111111111", "user00000000"}});
    std::vector<TokenVerdict> verdicts;
    REQUIRE(wait_for(
        [&] {
            for (auto& item : consumer.drain().items) {
                if (auto* v = std::get_if<TokenVerdict>(&item)) {
                    verdicts.push_back(*v);
                }
            }
            return !verdicts.empty();
        },
        5s));
    CHECK_FALSE(verdicts[0].alive);
    CHECK(consumer.revalidations() == 1);

    // And events flow again on the new stream.
    auto conn = redis.connect();
    add_revoked(conn, "after-restart");
    std::vector<std::string> got;
    REQUIRE(wait_for(
        [&] {
            for (auto& id : token_ids(consumer.drain().items)) {
                got.push_back(id);
            }
            return !got.empty();
        },
        5s));
    CHECK(got.front() == "after-restart");
}

TEST_CASE("consumer: an undrained queue stays bounded and asks for re-validation",
          "[plugin][consumer][redis]") {
    tka::test::RedisServer redis;
    auto options = options_for(redis);
    options.max_queued_items = 10;
    EventConsumer consumer(options);
    consumer.start();
    REQUIRE(wait_for([&] { return consumer.positioned(); }, 5s));
    auto conn = redis.connect();
    for (int i = 0; i < 25; ++i) {
        add_revoked(conn, numbered("t", i));
    }
    std::this_thread::sleep_for(800ms);  // nobody drains meanwhile
    const ConsumerOutput out = consumer.drain();
    CHECK(out.items.size() <= 10);
    CHECK(out.wants_snapshot);
    bool warned = false;
    for (const auto& [level, message] : out.logs) {
        warned = warned || message.find("event queue overflow") != std::string::npos;
    }
    CHECK(warned);
}

TEST_CASE("consumer: re-validation verdicts obey the queue bound too",
          "[plugin][consumer][redis]") {
    // A snapshot larger than the queue bound: the verdicts wait for room instead of
    // piling up, and the re-validation completes as the broker thread drains.
    tka::test::RedisServer redis;
    auto options = options_for(redis);
    options.max_queued_items = 10;
    EventConsumer consumer(options);
    consumer.start();
    REQUIRE(wait_for([&] { return consumer.positioned(); }, 5s));
    constexpr int kTokens = 25;
    std::vector<tka::plugin::TokenRef> snapshot;
    for (int i = 0; i < kTokens; ++i) {
        snapshot.push_back({"org_aaaaaaaaaaaa", numbered("t", i), "user00000000"});
    }
    consumer.provide_snapshot(snapshot);
    std::this_thread::sleep_for(800ms);  // nobody drains meanwhile

    std::vector<TokenVerdict> verdicts;
    std::size_t largest = 0;
    REQUIRE(wait_for(
        [&] {
            ConsumerOutput out = consumer.drain();
            CHECK_FALSE(out.wants_snapshot);  // nothing was dropped
            largest = std::max(largest, out.items.size());
            for (auto& item : out.items) {
                verdicts.push_back(std::get<TokenVerdict>(std::move(item)));
            }
            return verdicts.size() >= static_cast<std::size_t>(kTokens);
        },
        10s));
    CHECK(largest <= 10);
    REQUIRE(verdicts.size() == static_cast<std::size_t>(kTokens));
    for (int i = 0; i < kTokens; ++i) {  // every token once, in snapshot order
        CHECK(verdicts[static_cast<std::size_t>(i)].token_id == numbered("t", i));
        CHECK_FALSE(verdicts[static_cast<std::size_t>(i)].alive);
        CHECK(verdicts[static_cast<std::size_t>(i)].reason == tka::Refusal::unknown_org);
    }
    CHECK(consumer.revalidations() == 1);
}

TEST_CASE("consumer: stream ids compare numerically", "[plugin][consumer]") {
    using tka::plugin::stream_id_less;
    CHECK(stream_id_less("9-0", "10-0"));
    CHECK(stream_id_less("10-2", "10-10"));
    CHECK_FALSE(stream_id_less("10-0", "10-0"));
    CHECK_FALSE(stream_id_less("bad", "10-0"));
}
