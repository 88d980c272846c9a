// HTTP-level behaviour of tokend: unknown paths, wrong methods, oversized and non-JSON
// bodies, health and metrics endpoints, TLS, and the in-process Server's lifecycle.
#include <catch2/catch.hpp>

#include <thread>

#include "tests/tokend/tokend_harness.hpp"
#include "tokend/config.hpp"
#include "tokend/server.hpp"

using namespace tka::test;
using nlohmann::json;

TEST_CASE("unknown paths are 404 JSON", "[tokend][http]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    auto client = tokend.client();
    for (const char* path : {"/", "/v2/tokens", "/v2/tokens/create/", "/v1/tokens/create",
                             "/healthz/extra", "/%2e%2e/etc/passwd"}) {
        INFO(path);
        TKA_REQUIRE_ERROR(get(client, path), 404, "not_found", tokend);
        TKA_REQUIRE_ERROR(post_raw(client, path, "{}"), 404, "not_found", tokend);
    }
}

TEST_CASE("wrong methods are 405 JSON with Allow", "[tokend][http]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    auto client = tokend.client();
    for (const char* path : {"/v2/tokens/create", "/v2/tokens/refresh", "/v2/tokens/revoke"}) {
        INFO(path);
        auto r = get(client, path);
        TKA_REQUIRE_ERROR(r, 405, "method_not_allowed", tokend);
        CHECK(r.header("Allow") == "POST");
        auto put = to_reply(client.put(path, "{}", "application/json"));
        TKA_REQUIRE_ERROR(put, 405, "method_not_allowed", tokend);
        auto del = to_reply(client.del(path));
        TKA_REQUIRE_ERROR(del, 405, "method_not_allowed", tokend);
    }
    for (const char* path : {"/healthz", "/metrics"}) {
        INFO(path);
        auto r = post_raw(client, path, "{}");
        TKA_REQUIRE_ERROR(r, 405, "method_not_allowed", tokend);
        CHECK(r.header("Allow") == "GET, HEAD");
    }
    // The connection still serves requests after answering without reading a body.
    TKA_REQUIRE_STATUS(get(client, "/healthz"), 200, tokend);
}

TEST_CASE("bodies over 64 KiB are 413 JSON", "[tokend][http]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    auto client = tokend.client();

    json body = create_body(org, "a@example.com");
    body["padding"] = std::string(64 * 1024, 'x');
    auto r = post_json(client, "/v2/tokens/create", body);
    TKA_REQUIRE_ERROR(r, 413, "payload_too_large", tokend);

    // Chunked uploads are held to the same limit.
    HttpRequest upload{
        "POST", "/v2/tokens/create", {{"Content-Type", "application/json"}}, body.dump(), 8192};
    auto chunked = to_reply(client.send(upload));
    TKA_REQUIRE_ERROR(chunked, 413, "payload_too_large", tokend);

    // Just under the limit is processed normally.
    body["padding"] = std::string(60 * 1024, 'x');
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/create", body), 200, tokend);
}

TEST_CASE("healthz and metrics", "[tokend][http]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    TestOrg org = make_org(redis);
    auto client = tokend.client();

    auto health = get(client, "/healthz");
    TKA_REQUIRE_STATUS(health, 200, tokend);
    CHECK(health.json == json{{"status", "ok"}});

    auto token = post_json(client, "/v2/tokens/create", create_body(org, "m@example.com"));
    TKA_REQUIRE_STATUS(token, 200, tokend);
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/refresh", refresh_body(token.json)), 200,
                       tokend);
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/revoke",
                                 {{"organization_id", org.id},
                                  {"secret_key", org.key},
                                  {"user_email", "m@example.com"}}),
                       200, tokend);
    post_raw(client, "/v2/tokens/create", "nope");
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/create",
                                 {{"organization_id", org.id},
                                  {"secret_key", "sk_wrongwrongwrongwrongwrongwrongwrong"},
                                  {"user_email", "m@example.com"}}),
                       401, tokend);

    auto metrics = get(client, "/metrics");
    TKA_REQUIRE_STATUS(metrics, 200, tokend);
    CHECK(metrics.header("Content-Type").rfind("text/plain", 0) == 0);
    const std::string& text = metrics.body;
    INFO(text);
    auto has = [&](const std::string& s) { return text.find(s) != std::string::npos; };
    CHECK(has("tokend_requests_total{route=\"/v2/tokens/create\",status=\"200\"} 1\n"));
    CHECK(has("tokend_requests_total{route=\"/v2/tokens/create\",status=\"400\"} 1\n"));
    CHECK(has("tokend_requests_total{route=\"/healthz\",status=\"200\"} 1\n"));
    // Failed requests by the error code they were answered with (the Usage page's charts).
    CHECK(
        has("tokend_request_errors_total{route=\"/v2/tokens/create\",error=\"invalid_request\"} "
            "1\n"));
    CHECK(
        has("tokend_request_errors_total{route=\"/v2/tokens/create\",error=\"invalid_client\"} "
            "1\n"));
    CHECK(has("tokend_request_duration_seconds_count{route=\"/v2/tokens/refresh\"} 1\n"));
    CHECK(has("tokend_tokens_issued_total 1\n"));
    CHECK(has("tokend_tokens_refreshed_total 1\n"));
    CHECK(has("tokend_tokens_revoked_total 1\n"));
    CHECK(has("tokend_redis_errors_total 0\n"));
}

TEST_CASE("TLS mode serves the API over HTTPS", "[tokend][tls]") {
    RedisServer redis;
    TempDir dir;
    const TlsFiles tls_files = make_tls_files(dir);
    const std::string& cert = tls_files.cert;

    Tokend tokend(redis.url(), {"--tls-cert", cert, "--tls-key", tls_files.key});
    TestOrg org = make_org(redis);

    HttpClientOptions verified;
    verified.tls = true;
    verified.ca_file = cert;
    HttpClient tls("127.0.0.1", tokend.port(), verified);
    auto health = get(tls, "/healthz");
    TKA_REQUIRE_STATUS(health, 200, tokend);
    auto r = post_json(tls, "/v2/tokens/create", create_body(org, "tls@example.com"));
    TKA_REQUIRE_STATUS(r, 200, tokend);
    CHECK(r.json["access_token"].get<std::string>().rfind("tkn_", 0) == 0);

    // Plain HTTP on the TLS port gets no API answer.
    auto plain = tokend.client();
    plain.set_read_timeout(std::chrono::seconds(2));
    auto p = plain.get("/healthz");
    CHECK((!p || p->status != 200));
}

TEST_CASE("tokend refuses bad flags with a one-line error", "[tokend][process]") {
    auto r = run({kTokendBinary, "--redis-url", "redis://127.0.0.1:1", "--listen", "nowhere"});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("--listen") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

    auto missing = run({kTokendBinary});
    CHECK(missing.exit_code != 0);
    CHECK_FALSE(missing.err.empty());

    auto env = run({kTokendBinary}, "",
                   {{"TOKEND_REDIS_URL", "redis://127.0.0.1:1"}, {"TOKEND_LISTEN", "bad"}});
    CHECK(env.exit_code != 0);
    CHECK(env.err.find("--listen") != std::string::npos);
}

TEST_CASE("tokend takes its settings from the environment", "[tokend][process]") {
    RedisServer redis;
    const int port = free_port();
    TempDir dir;
    Process proc({kTokendBinary}, dir.file("tokend.log"),
                 {{"TOKEND_REDIS_URL", redis.url()},
                  {"TOKEND_LISTEN", "127.0.0.1:" + std::to_string(port)},
                  {"TOKEND_PROVIDER", "env-provider"}});
    REQUIRE(wait_for_port(port, std::chrono::seconds(20)));
    TestOrg org = make_org(redis);
    HttpClient client("127.0.0.1", port);
    auto r = post_json(client, "/v2/tokens/create", create_body(org, "env@example.com"));
    INFO(proc.log());
    REQUIRE(r.status == 200);
    CHECK(r.json["provider"] == "env-provider");
}

TEST_CASE("in-process server: serve, then stop cleanly", "[tokend][server]") {
    RedisServer redis;
    auto parsed = tka::tokend::parse_config(std::vector<std::string>{
        "--redis-url", redis.url(), "--listen", "127.0.0.1:0", "--threads", "2"});
    REQUIRE(parsed.config);
    tka::tokend::Server server(*parsed.config);
    const int port = server.bind();
    REQUIRE(port > 0);
    std::thread serving([&] { server.listen(); });

    HttpClient client("127.0.0.1", port);
    auto r = get(client, "/healthz");
    CHECK(r.status == 200);
    auto unknown = get(client, "/nope");
    CHECK(unknown.status == 404);

    server.stop();
    serving.join();
    server.stop();  // idempotent
    CHECK_FALSE(wait_for_port(port, std::chrono::milliseconds(200)));
}

TEST_CASE("in-process server: stop before listen returns at once", "[tokend][server]") {
    auto parsed = tka::tokend::parse_config(
        std::vector<std::string>{"--redis-url", "redis://127.0.0.1:1", "--listen", "127.0.0.1:0"});
    REQUIRE(parsed.config);
    tka::tokend::Server server(*parsed.config);
    server.bind();
    server.stop();
    CHECK(server.listen());
}

TEST_CASE("a body tokend refuses is never parsed as the next request", "[tokend][http]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    // The body of each refused request is itself an HTTP request for /metrics. If tokend
    // left it unread, it would answer it as a second request on the connection.
    // Appended, not "..." + std::string(8000, ' '): GCC 12 at -O3 reports a false
    // -Warray-bounds inside libstdc++ for operator+(const char*, std::string&&).
    std::string smuggled = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    smuggled.append(8000, ' ');  // more than one read buffer
    auto framed = [&](const std::string& method, const std::string& path,
                      const std::string& content_type) {
        return method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + content_type +
               "\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled;
    };
    struct Case {
        std::string method, path, content_type;
        int status;
    };
    auto c = GENERATE(Case{"PUT", "/v2/tokens/create", "application/json", 405},
                      Case{"POST", "/v2/tokens/create", "text/plain", 415},
                      Case{"POST", "/nowhere", "application/json", 404},
                      Case{"GET", "/healthz", "application/json", 200},
                      Case{"POST", "/healthz", "application/json", 405});
    INFO(c.method << " " << c.path << " " << c.content_type);
    RawConnection conn(tokend.port());
    conn.send(framed(c.method, c.path, c.content_type));
    auto first = conn.read_responses(1, std::chrono::seconds(5));
    INFO(conn.received());
    REQUIRE(first.size() == 1);
    CHECK(first[0].status == c.status);
    CHECK(first[0].body.find("tokend_requests_total") == std::string::npos);
    // A genuine second request on the same connection gets the answer to *it*, not to
    // the bytes of the refused body.
    conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    auto both = conn.read_responses(2, std::chrono::seconds(5));
    REQUIRE(both.size() == 2);
    CHECK(both[1].status == 200);
    CHECK(both[1].body == "{\"status\":\"ok\"}");
}

TEST_CASE("multipart bodies are 415, not a crash", "[tokend][http]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    auto client = tokend.client();
    const MultipartBody form = multipart_form({{"organization_id", "org_x"}});
    auto r = post_raw(client, "/v2/tokens/create", form.body, form.content_type);
    TKA_REQUIRE_ERROR(r, 415, "unsupported_media_type", tokend);
    TKA_REQUIRE_STATUS(get(client, "/healthz"), 200, tokend);
}

TEST_CASE("a malformed HTTP request gets a JSON 400", "[tokend][http]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    RawConnection conn(tokend.port());
    conn.send("GET /healthz HTTP/1.1\r\nHost x\r\n\r\n");  // no colon after the field name
    auto response = conn.read_response(std::chrono::seconds(5));
    INFO(conn.received());
    REQUIRE(response);
    CHECK(response->status == 400);
    CHECK(response->body.find("\"error\":\"invalid_request\"") != std::string::npos);
}
