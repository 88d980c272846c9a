// Operating tokend: Redis outages and recovery, clean shutdown on signals, rate limiting,
// and an access log that never carries a secret.
#include <catch2/catch.hpp>

#include <csignal>
#include <future>
#include <thread>

#include "common/identifiers.hpp"
#include "tests/tokend/tokend_harness.hpp"
#include "tokend/api.hpp"
#include "tokend/redis_workers.hpp"

using namespace tka::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

TEST_CASE("Redis outage: 503 within 3 s, recovery without restarting tokend", "[tokend][outage]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    auto client = tokend.client();
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/create", create_body(org, "a@example.com")),
                       200, tokend);

    redis.stop();

    auto t0 = Clock::now();
    auto health = get(client, "/healthz");
    auto health_time = Clock::now() - t0;
    TKA_REQUIRE_ERROR(health, 503, "temporarily_unavailable", tokend);
    CHECK(health_time < std::chrono::seconds(3));

    t0 = Clock::now();
    auto create = post_json(client, "/v2/tokens/create", create_body(org, "a@example.com"));
    auto create_time = Clock::now() - t0;
    TKA_REQUIRE_ERROR(create, 503, "temporarily_unavailable", tokend);
    CHECK(create_time < std::chrono::seconds(3));

    t0 = Clock::now();
    auto refresh = post_json(client, "/v2/tokens/refresh",
                             {{"token_id", tka::ids::new_token_id()},
                              {"current_token_password", tka::ids::new_token_password()}});
    TKA_REQUIRE_ERROR(refresh, 503, "temporarily_unavailable", tokend);
    CHECK(Clock::now() - t0 < std::chrono::seconds(3));

    // Every worker's connection has failed or will; all must answer 503 quickly.
    for (int i = 0; i < 10; ++i) {
        auto r = get(client, "/healthz");
        CHECK(r.status == 503);
    }

    auto metrics = get(client, "/metrics");
    CHECK(metrics.body.find("tokend_redis_errors_total 0\n") == std::string::npos);
    CHECK(metrics.body.find("tokend_requests_total{route=\"/healthz\",status=\"503\"}") !=
          std::string::npos);

    // A fresh, empty Redis on the same port: recreate the organization, tokend recovers.
    redis.start();
    TestOrg again = make_org(redis);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    Reply r;
    while (Clock::now() < deadline) {
        r = post_json(client, "/v2/tokens/create", create_body(again, "a@example.com"));
        if (r.status == 200) {
            break;
        }
        CHECK(r.status == 503);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    TKA_REQUIRE_STATUS(r, 200, tokend);
    // And every pooled connection has come back, not just one.
    for (int i = 0; i < 20; ++i) {
        auto h = get(client, "/healthz");
        if (h.status != 200) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            h = get(client, "/healthz");
        }
        CHECK(h.status == 200);
    }
}

TEST_CASE("SIGTERM and SIGINT stop tokend cleanly", "[tokend][process]") {
    RedisServer redis;
    int sig = GENERATE(SIGTERM, SIGINT);
    Tokend tokend(redis.url());
    auto client = tokend.client();
    TKA_REQUIRE_STATUS(get(client, "/healthz"), 200, tokend);
    const int code = tokend.process().stop(sig, std::chrono::seconds(10));
    INFO(tokend.log());
    CHECK(code == 0);
    CHECK(tokend.log().find("\"event\":\"stopped\"") != std::string::npos);
}

TEST_CASE("rate limit answers 429 with Retry-After", "[tokend][ratelimit]") {
    RedisServer redis;
    Tokend tokend(redis.url(), {"--rate-limit", "0.5", "--rate-burst", "3"});
    auto client = tokend.client();
    const json junk = {{"token_id", "x"}};
    int limited = 0;
    Reply last;
    for (int i = 0; i < 6; ++i) {
        last = post_json(client, "/v2/tokens/refresh", junk);
        if (last.status == 429) {
            ++limited;
            TKA_REQUIRE_ERROR(last, 429, "rate_limited", tokend);
            CHECK(std::stoi(last.header("Retry-After")) >= 1);
        } else {
            CHECK(last.status == 400);
        }
    }
    CHECK(limited >= 2);  // burst 3, then at most one refill during the loop
    // Health checks are never limited.
    TKA_REQUIRE_STATUS(get(client, "/healthz"), 200, tokend);
}

TEST_CASE("the access log has one JSON line per request and no secrets", "[tokend][log]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    std::string log;
    std::vector<std::string> secrets = {org.key};
    {
        Tokend tokend(redis.url());
        auto client = tokend.client();
        auto created = post_json(client, "/v2/tokens/create", create_body(org, "log@example.com"));
        TKA_REQUIRE_STATUS(created, 200, tokend);
        secrets.push_back(created.json["access_token"]);
        auto refreshed = post_json(client, "/v2/tokens/refresh", refresh_body(created.json));
        TKA_REQUIRE_STATUS(refreshed, 200, tokend);
        secrets.push_back(refreshed.json["access_token"]);
        // Failures that carry credentials in the body.
        post_json(client, "/v2/tokens/refresh", refresh_body(created.json));
        TestOrg wrong{org.id, org.key + "X", 0};
        secrets.push_back(wrong.key);
        post_json(client, "/v2/tokens/create", create_body(wrong, "log@example.com"));
        json ill = create_body(org, "log@example.com");
        ill["replace_existing"] = "maybe";
        post_json(client, "/v2/tokens/create", ill);
        post_raw(client, "/v2/tokens/create", create_body(org, "x").dump(), "text/plain");
        post_raw(client, "/v2/tokens/revoke", "{\"secret_key\":\"" + org.key + "\"");
        auto revoked = post_json(client, "/v2/tokens/revoke",
                                 {{"organization_id", org.id},
                                  {"secret_key", org.key},
                                  {"token_id", created.json["token_id"]}});
        TKA_REQUIRE_STATUS(revoked, 200, tokend);
        get(client, "/nope");
        // Hang up first: this case is about the log, not about how long a stop waits for
        // an idle keep-alive connection.
        client.close();
        REQUIRE(tokend.process().stop() == 0);
        log = tokend.log();
    }
    INFO(log);
    for (const auto& secret : secrets) {
        CHECK(log.find(secret) == std::string::npos);
    }
    CHECK(log.find("log@example.com") == std::string::npos);  // no bodies either

    // Every line is JSON; request lines carry the documented fields.
    int requests = 0;
    std::size_t start = 0;
    while (start < log.size()) {
        auto end = log.find('\n', start);
        REQUIRE(end != std::string::npos);
        auto line = json::parse(log.substr(start, end - start), nullptr, false);
        REQUIRE_FALSE(line.is_discarded());
        CHECK(line.contains("ts"));
        if (line.contains("method")) {
            ++requests;
            CHECK(line.contains("path"));
            CHECK(line["status"].is_number_integer());
            CHECK(line["duration_ms"].is_number());
            CHECK(line["remote"] == "127.0.0.1");
            if (line["status"].get<int>() >= 400) {
                CHECK(line["error"].is_string());
            }
            if (line["path"] == "/v2/tokens/create" && line["status"] == 200) {
                CHECK(line["org"] == org.id);
                CHECK(line["token_id"].is_string());
            }
        }
        start = end + 1;
    }
    CHECK(requests == 9);
}

TEST_CASE("worker connections that Redis closed while idle are replaced without a 503",
          "[tokend][outage]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    // One worker: every request reuses its connection; probe it before every job.
    tka::tokend::RedisWorkers workers({redis.options(), 1, 16, std::chrono::milliseconds(0)});
    tka::tokend::Metrics metrics;
    tka::tokend::RateLimiter limiter(0, 0);
    tka::tokend::AuthThrottle throttle{tka::tokend::ThrottleOptions{}};
    tka::tokend::Api api({"test", {}}, metrics, limiter, throttle);
    auto request = [&](const std::string& path, const std::string& body) {
        tka::tokend::ApiRequest r;
        r.method = body.empty() ? "GET" : "POST";
        r.path = path;
        r.content_type = "application/json";
        r.body = body;
        r.remote = "127.0.0.1";
        std::promise<tka::tokend::ApiResponse> answer;
        tka::tokend::RedisWorkers::Job job = [&](tka::RedisConnection& conn) {
            answer.set_value(api.handle(r, conn));
        };
        REQUIRE(workers.try_submit(job));
        return answer.get_future().get();
    };
    auto killer = redis.connect();
    auto kill_clients = [&] {
        // What a Redis restart, its `timeout` setting or a proxy's idle limit does.
        auto killed = killer.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
        REQUIRE(killed.integer >= 1);
    };

    REQUIRE(request("/healthz", "").status == 200);
    kill_clients();
    auto created = request("/v2/tokens/create", create_body(org, "a@example.com").dump());
    INFO(created.body << " " << created.detail);
    REQUIRE(created.status == 200);

    kill_clients();
    auto refreshed = request("/v2/tokens/refresh", refresh_body(json::parse(created.body)).dump());
    INFO(refreshed.body << " " << refreshed.detail);
    CHECK(refreshed.status == 200);

    kill_clients();
    CHECK(request("/healthz", "").status == 200);
}
