// tokend's front door against a hostile network: a real tokend process and a real Redis,
// and clients that stall, trickle, flood, pipeline, smuggle and mis-frame their requests,
// hoard connections, or find Redis gone silent. Each case plays one attack and checks what
// a client sees: the limits of tokend/http_limits.hpp answered with the contract's JSON
// errors (408 request_timeout, 413 payload_too_large, 431 header_too_large,
// 503 temporarily_unavailable, 400 invalid_request), the connection closed where the
// contract says so, other clients served all along, and no request hidden in another ever
// executed.
//
// Deadlines are set short with flags so the suite stays fast. Every time bound is a
// deadline with generous slack for a shared machine running sanitized builds (see
// `window`), never a claim about speed.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <thread>

#include "common/token_store.hpp"
#include "tests/support/numbered.hpp"
#include "tests/tokend/tokend_harness.hpp"

using namespace tka::test;
using namespace std::chrono_literals;
using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// How long tokend may take to act on a deadline of `deadline` on a loaded CI machine
// under ASan: three times the deadline plus two seconds.
milliseconds window(milliseconds deadline) {
    return 3 * deadline + 2s;
}

std::string concat(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (auto part : parts) {
        out.append(part);
    }
    return out;
}

std::string hex(std::size_t n) {
    char text[32];
    std::snprintf(text, sizeof text, "%zx", n);
    return text;
}

std::string ms_flag(milliseconds ms) {
    return std::to_string(ms.count());
}

// Bytes read from a socket, fit for a failure message: escaped, cut after 2000 chars.
std::string printable(std::string_view bytes) {
    std::string out;
    for (char c : bytes.substr(0, 2000)) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n\n";
        } else if (c >= 0x20 && c < 0x7f) {
            out += c;
        } else {
            out += '.';
        }
    }
    if (bytes.size() > 2000) {
        out += concat({"... (", std::to_string(bytes.size()), " bytes)"});
    }
    return out;
}

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// A create body that leaves earlier tokens of the e-mail alone, so that every token
// minted stays listed in Redis.
json keep_others(json body) {
    body["replace_existing"] = false;
    return body;
}

// A complete, valid POST /v2/tokens/create for `org`: what an attacker hides.
std::string create_request(const TestOrg& org, const std::string& email) {
    HttpRequest r{"POST",
                  "/v2/tokens/create",
                  {{"Content-Type", "application/json"}},
                  keep_others(create_body(org, email)).dump(),
                  0};
    return serialize_request(r, "127.0.0.1");
}

// `body` in chunked transfer coding, one chunk.
std::string chunked(const std::string& body) {
    return concat({hex(body.size()), "\r\n", body, "\r\n0\r\n\r\n"});
}

// Tokens of `org` that exist in Redis (live or expired): every create that ever ran.
std::size_t tokens_in_redis(const RedisServer& redis, const TestOrg& org) {
    auto conn = redis.connect();
    return tka::TokenStore(conn).list(org.id, tka::unix_now()).size();
}

// One request on a new connection, its answer awaited at most `timeout`.
Reply fresh_get(const Tokend& tokend, const std::string& path, milliseconds timeout) {
    HttpClient client = tokend.client();
    client.set_connect_timeout(timeout);
    client.set_read_timeout(timeout);
    return to_reply(client.get(path));
}

// tokend's own count of minted tokens, from /metrics ("" when it did not answer).
std::string issued_metric(const Tokend& tokend) {
    const Reply metrics = fresh_get(tokend, "/metrics", 5s);
    const std::string name = "tokend_tokens_issued_total ";
    for (auto at = metrics.body.find(name); at != std::string::npos;
         at = metrics.body.find(name, at + 1)) {
        if (at == 0 || metrics.body[at - 1] == '\n') {
            return metrics.body.substr(at + name.size(),
                                       metrics.body.find('\n', at) - at - name.size());
        }
    }
    return {};
}

// The "error" of a JSON error body, "" when the body is not one.
std::string error_code(const Reply& r) {
    return r.json.is_object() ? r.json.value("error", "") : std::string();
}

// `r` is the contract's error: this status, {"error": code, "error_description": text}.
void check_error(const HttpResponse& response, int status, const std::string& code) {
    const Reply r = to_reply(response);
    INFO("answer: " << r.status << " " << r.body);
    CHECK(r.status == status);
    CHECK(error_code(r) == code);
    CHECK(r.json.is_object());
    if (r.json.is_object()) {
        CHECK(r.json.contains("error_description"));
        CHECK(r.json.size() == 2);
    }
}

// Whether tokend closed the connection no later than `since` + `within`; when it did not,
// a failed check with what it sent and its log.
bool check_closed_within(RawConnection& conn, Clock::time_point since, milliseconds within,
                         const Tokend& tokend) {
    const auto left = std::chrono::duration_cast<milliseconds>(since + within - Clock::now());
    const bool closed = conn.closed_within(std::max(left, milliseconds(0)));
    if (!closed) {
        INFO("received: " << printable(conn.received()));
        INFO("tokend log:\n" << tokend.log());
        FAIL_CHECK("still open " << within.count() << " ms after the probe started");
    }
    return closed;
}

// The first answer on `conn` within `timeout`; when none came, a failed check with what
// tokend did send, and nullopt.
std::optional<HttpResponse> check_response(RawConnection& conn, milliseconds timeout,
                                           const Tokend& tokend) {
    auto response = conn.read_response(timeout);
    if (!response) {
        INFO("received: " << printable(conn.received()));
        INFO("closed by tokend: " << conn.peer_closed());
        INFO("tokend log:\n" << tokend.log());
        FAIL_CHECK("no complete HTTP answer within " << timeout.count() << " ms");
    }
    return response;
}

bool says_close(const HttpResponse& r) {
    std::string value = r.header("Connection");
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return value.find("close") != std::string::npos;
}

// A response, when tokend sent one before closing a connection it gave up on, is a 408.
void check_timeout_answer(const RawConnection& conn) {
    auto responses = conn.responses();
    INFO(printable(conn.received()));
    CHECK(responses.size() <= 1);
    if (!responses.empty()) {
        check_error(responses.front(), 408, "request_timeout");
    }
}

long vm_rss_kib(pid_t pid) {
    std::ifstream in(numbered("/proc/", pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

// SIGSTOP for a process for the lifetime of this object; SIGCONT however the scope ends.
class StoppedProcess {
  public:
    explicit StoppedProcess(pid_t pid) : pid_(pid) { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
    ~StoppedProcess() { ::kill(pid_, SIGCONT); }
    StoppedProcess(const StoppedProcess&) = delete;
    StoppedProcess& operator=(const StoppedProcess&) = delete;

  private:
    pid_t pid_;
};

}  // namespace

// Slowloris: many clients each send the start of a request line and then nothing, to pin
// one worker each until none is left for anyone else. The stalled requests must cost no
// worker, and the header deadline must end them.
TEST_CASE("stalled request heads starve no one and die at the header deadline",
          "[tokend][hostile]") {
    const int stalled_count = GENERATE(40, 300);
    const milliseconds header_deadline = 4s;
    RedisServer redis;
    TestOrg org = make_org(redis);
    // All sockets come from 127.0.0.1; the per-address cap is lifted so that only the
    // deadline acts on them.
    Tokend tokend(redis.url(), {"--header-timeout-ms", ms_flag(header_deadline),
                                "--max-connections-per-address", "1000"});
    INFO(stalled_count << " stalled connections");
    std::vector<RawConnection> stalled;
    for (int i = 0; i < stalled_count; ++i) {
        stalled.emplace_back(tokend.port());
        stalled.back().send("POST /v2/tokens/cre");
    }
    const auto all_stalled = Clock::now();

    // Answered within 3 s, before the 4 s header deadline can have freed anything: the
    // stalled requests hold nothing a fresh client needs.
    TKA_REQUIRE_STATUS(fresh_get(tokend, "/healthz", 3s), 200, tokend);
    HttpClient client = tokend.client();
    client.set_read_timeout(3s);
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/create", create_body(org, "a@example.com")),
                       200, tokend);

    for (auto& conn : stalled) {
        if (!check_closed_within(conn, all_stalled, window(header_deadline), tokend)) {
            break;  // one report, not one per socket
        }
        check_timeout_answer(conn);
    }
}

// A client announces a 4 MiB body to make the server read or buffer all of it before it
// refuses. The refusal must come from the header, without waiting for the body.
TEST_CASE("an oversized Content-Length is refused before the body arrives", "[tokend][hostile]") {
    RedisServer redis;
    // Deadlines far beyond the wait below: the answer cannot be a deadline's.
    Tokend tokend(redis.url(), {"--header-timeout-ms", "30000", "--body-timeout-ms", "30000"});
    RawConnection conn(tokend.port());
    std::string request =
        "POST /v2/tokens/create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 4194304\r\n\r\n";
    request.append(64 * 1024, 'x');
    conn.send(request);

    const auto sent = Clock::now();
    const auto r = check_response(conn, 5s, tokend);
    REQUIRE(r);
    check_error(*r, 413, "payload_too_large");
    CHECK(says_close(*r));
    check_closed_within(conn, sent, 5s, tokend);
}

// Slowloris proper: one header byte every half second. Each byte would reset an idle
// timer; only an absolute deadline from the first byte ends it.
TEST_CASE("a header trickled byte by byte is cut off by the header deadline", "[tokend][hostile]") {
    const milliseconds header_deadline = 1s;
    RedisServer redis;
    Tokend tokend(redis.url(), {"--header-timeout-ms", ms_flag(header_deadline)});
    RawConnection conn(tokend.port());
    std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: ";
    request.append(200, 'a');

    const auto start = Clock::now();
    const auto give_up = start + window(header_deadline);
    std::size_t sent = 0;
    bool closed = false;
    while (!closed && Clock::now() < give_up && sent < request.size()) {
        closed = !conn.send(std::string_view(request).substr(sent, 1)) || conn.closed_within(500ms);
        ++sent;
    }
    INFO(sent << " bytes trickled");
    check_closed_within(conn, start, window(header_deadline), tokend);
    check_timeout_answer(conn);
}

// The same trickle from 100 sockets at once: while they are all open (default deadlines),
// a fresh client is still answered.
TEST_CASE("100 trickling connections do not keep others from being served", "[tokend][hostile]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    std::vector<RawConnection> tricklers;
    for (int i = 0; i < 100; ++i) {
        tricklers.emplace_back(tokend.port());
        tricklers.back().send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: ");
    }
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
        while (!stop) {
            for (auto& conn : tricklers) {
                conn.send("a", 100ms);
            }
            for (int i = 0; i < 10 && !stop; ++i) {
                std::this_thread::sleep_for(50ms);
            }
        }
    });
    struct Joiner {
        std::atomic<bool>& stop;
        std::thread& thread;
        ~Joiner() {
            stop = true;
            thread.join();
        }
    } joiner{stop, trickle};

    std::this_thread::sleep_for(1s);
    for (int i = 0; i < 3; ++i) {
        INFO("health check " << i);
        TKA_REQUIRE_STATUS(fresh_get(tokend, "/healthz", 3s), 200, tokend);
    }
}

// Memory exhaustion through the header: one huge field, or thousands of tiny ones, that a
// server would buffer and index before looking at the request.
TEST_CASE("oversized headers are 431 and closed", "[tokend][hostile]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    std::string one_huge = "X-Big: ";
    one_huge.append(9000, 'a');
    one_huge += "\r\n";
    auto tiny_fields = [](int n) {
        std::string fields;
        for (int i = 0; i < n; ++i) {
            fields += concat({numbered("X-F", i), ": 1\r\n"});
        }
        return fields;
    };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"one field of 9000 bytes", one_huge},
        {"5000 tiny fields", tiny_fields(5000)},
        {"100 fields in under 2 KiB (the field count alone)", tiny_fields(100)},
    };
    for (const auto& [name, fields] : cases) {
        INFO(name);
        RawConnection conn(tokend.port());
        conn.send(concat({"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", fields, "\r\n"}));
        const auto sent = Clock::now();
        const auto r = check_response(conn, 5s, tokend);
        if (r) {
            check_error(*r, 431, "header_too_large");
            CHECK(says_close(*r));
        }
        check_closed_within(conn, sent, 5s, tokend);
    }
}

// The same flood at volume: 30 MB of header lines over six sockets. tokend stops reading
// each at the header limit, so its memory stays bounded (a bound, not a measurement).
TEST_CASE("a 30 MB header flood does not grow tokend's memory", "[tokend][hostile]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    const pid_t pid = tokend.process().pid();
    TKA_REQUIRE_STATUS(fresh_get(tokend, "/healthz", 5s), 200, tokend);
    const long before = vm_rss_kib(pid);
    REQUIRE(before > 0);

    std::string flood = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    const std::string padding(100, 'a');
    for (int i = 0; flood.size() < 5 * 1024 * 1024; ++i) {
        flood += concat({numbered("X-Flood-", i), ": ", padding, "\r\n"});
    }
    std::vector<RawConnection> flooders;
    for (int i = 0; i < 6; ++i) {
        flooders.emplace_back(tokend.port());
        flooders.back().send(flood, 3s);  // refused part-way: tokend closes
    }
    for (auto& conn : flooders) {
        conn.closed_within(2s);
    }
    const long after = vm_rss_kib(pid);
    INFO("VmRSS before " << before << " KiB, after " << after << " KiB");
    CHECK(after - before < 64 * 1024);
    TKA_REQUIRE_STATUS(fresh_get(tokend, "/healthz", 5s), 200, tokend);
}

// Request smuggling: a GET whose body is itself a complete create request. Framed by its
// Content-Length, the body is data; read as a second request it would mint a token.
TEST_CASE("a request hidden in a GET body never runs", "[tokend][hostile]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    Tokend tokend(redis.url());
    const std::string hidden = create_request(org, "smuggled@example.com");
    RawConnection conn(tokend.port());
    conn.send(concat({"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ",
                      std::to_string(hidden.size()), "\r\n\r\n", hidden}));

    // Waits the full time for a second answer that must not come.
    const auto responses = conn.read_responses(2, 3s);
    INFO(printable(conn.received()));
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].status == 200);
    CHECK(responses[0].body == R"({"status":"ok"})");
    CHECK(tokens_in_redis(redis, org) == 0);
    CHECK(issued_metric(tokend) == "0");
}

// A chunked body that passes the body limit with a create request right after byte
// 65536, in a chunk and again after the last chunk: tokend must refuse and close, so
// neither is ever parsed as a request.
TEST_CASE("a chunked body over the limit is 413 and closed, and what follows never runs",
          "[tokend][hostile]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    Tokend tokend(redis.url());
    const std::string hidden = create_request(org, "in-chunk@example.com");
    std::string request =
        "POST /v2/tokens/create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    const std::string filler(4096, 'x');
    for (int i = 0; i < 16; ++i) {  // exactly 65536 bytes of body
        request += concat({hex(filler.size()), "\r\n", filler, "\r\n"});
    }
    request += concat({hex(hidden.size()), "\r\n", hidden, "\r\n0\r\n\r\n"});
    request += create_request(org, "after-body@example.com");

    RawConnection conn(tokend.port());
    conn.send(request);  // may be cut short by the refusal
    const auto sent = Clock::now();
    const auto r = check_response(conn, 5s, tokend);
    if (r) {
        check_error(*r, 413, "payload_too_large");
        CHECK(says_close(*r));
    }
    check_closed_within(conn, sent, 5s, tokend);
    CHECK(conn.responses().size() == 1);
    CHECK(tokens_in_redis(redis, org) == 0);
    CHECK(issued_metric(tokend) == "0");
}

// Pipelining: many requests in one write. Each gets exactly one answer, in order, and no
// answer is lost or duplicated.
TEST_CASE("pipelined requests get one answer each, in order", "[tokend][hostile]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    Tokend tokend(redis.url());

    for (std::size_t n : {2, 100}) {
        INFO(n << " pipelined /healthz");
        RawConnection conn(tokend.port());
        std::string all;
        for (std::size_t i = 0; i < n; ++i) {
            all += kHealthz;
        }
        conn.send(all);
        const auto responses = conn.read_responses(n, 10s);
        INFO(printable(conn.received()));
        REQUIRE(responses.size() == n);
        for (const auto& r : responses) {
            CHECK(r.status == 200);
            CHECK(r.body == R"({"status":"ok"})");
        }
        conn.read_available(300ms);
        CHECK(conn.responses().size() == n);
    }

    RawConnection conn(tokend.port());
    conn.send(concat({kHealthz, create_request(org, "first@example.com"),
                      "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                      create_request(org, "second@example.com"),
                      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"}));
    const auto responses = conn.read_responses(5, 10s);
    INFO(printable(conn.received()));
    REQUIRE(responses.size() == 5);
    CHECK(responses[0].status == 200);
    CHECK(responses[0].body == R"({"status":"ok"})");
    const Reply first = to_reply(responses[1]);
    TKA_REQUIRE_STATUS(first, 200, tokend);
    CHECK(first.json.value("user_email", "") == "first@example.com");
    check_error(responses[2], 404, "not_found");
    const Reply second = to_reply(responses[3]);
    TKA_REQUIRE_STATUS(second, 200, tokend);
    CHECK(second.json.value("user_email", "") == "second@example.com");
    CHECK(responses[4].status == 200);
    CHECK(responses[4].body.find("tokend_tokens_issued_total 2\n") != std::string::npos);
}

// Ambiguous framing, the raw material of request smuggling between a proxy and tokend:
// each request below is a valid create under one reading of its framing. tokend must
// refuse it as malformed and close, and mint nothing.
TEST_CASE("ambiguous or unsupported framing is 400 and closed", "[tokend][hostile]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    Tokend tokend(redis.url());
    const std::string body = keep_others(create_body(org, "framing@example.com")).dump();
    const std::string length = std::to_string(body.size());
    const std::string longer = std::to_string(body.size() + 1);
    const std::string head =
        "POST /v2/tokens/create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"two different Content-Length",
         concat({head, "Content-Length: ", length, "\r\nContent-Length: ", longer, "\r\n\r\n", body,
                 " "})},
        {"Content-Length with trailing junk",
         concat({head, "Content-Length: ", length, "abc\r\n\r\n", body})},
        {"Content-Length with a sign",
         concat({head, "Content-Length: +", length, "\r\n\r\n", body})},
        {"Content-Length and chunked",
         concat({head, "Content-Length: ", length, "\r\nTransfer-Encoding: chunked\r\n\r\n",
                 chunked(body)})},
        {"gzip, chunked",
         concat({head, "Transfer-Encoding: gzip, chunked\r\n\r\n", chunked(body)})},
        {"an unknown coding before chunked",
         concat({head, "Transfer-Encoding: x-unknown, chunked\r\n\r\n", chunked(body)})},
        {"an unknown coding alone", concat({head, "Transfer-Encoding: x-unknown\r\n\r\n", body})},
    };
    for (const auto& [name, request] : cases) {
        INFO(name);
        RawConnection conn(tokend.port());
        conn.send(request);
        const auto sent = Clock::now();
        if (const auto r = check_response(conn, 5s, tokend)) {
            check_error(*r, 400, "invalid_request");
            CHECK(says_close(*r));
            check_closed_within(conn, sent, 5s, tokend);
        }
    }
    CHECK(tokens_in_redis(redis, org) == 0);
    CHECK(issued_metric(tokend) == "0");
}

// Connection management as clients rely on it: HTTP/1.0 and "Connection: close" end the
// connection after the answer; HTTP/1.1 keeps it for the next request.
TEST_CASE("HTTP/1.0 and Connection: close are closed, HTTP/1.1 is kept alive",
          "[tokend][hostile]") {
    RedisServer redis;
    Tokend tokend(redis.url());
    {
        INFO("HTTP/1.0");
        RawConnection conn(tokend.port());
        conn.send("GET /healthz HTTP/1.0\r\n\r\n");
        const auto sent = Clock::now();
        const auto r = check_response(conn, 5s, tokend);
        REQUIRE(r);
        CHECK(r->status == 200);
        check_closed_within(conn, sent, 5s, tokend);
    }
    {
        INFO("HTTP/1.1 with Connection: close");
        RawConnection conn(tokend.port());
        conn.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        const auto sent = Clock::now();
        const auto r = check_response(conn, 5s, tokend);
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(says_close(*r));
        check_closed_within(conn, sent, 5s, tokend);
    }
    {
        INFO("HTTP/1.1 keep-alive");
        RawConnection conn(tokend.port());
        conn.send(kHealthz);
        REQUIRE(conn.read_responses(1, 5s).size() == 1);
        conn.send(kHealthz);
        const auto both = conn.read_responses(2, 5s);
        INFO(printable(conn.received()));
        REQUIRE(both.size() == 2);
        CHECK(both[1].status == 200);
        CHECK_FALSE(conn.peer_closed());

        HttpClient client = tokend.client();
        for (int i = 0; i < 3; ++i) {
            TKA_REQUIRE_STATUS(get(client, "/healthz"), 200, tokend);
        }
        CHECK(client.connections_opened() == 1);
    }
}

// Hoarding: connections opened and left idle, after a request or before any, hold a
// socket each. tokend closes them (silently) after the idle timeout.
TEST_CASE("idle connections are closed", "[tokend][hostile]") {
    const milliseconds idle = 500ms;
    const milliseconds header_deadline = 1s;
    RedisServer redis;
    Tokend tokend(redis.url(), {"--idle-timeout-ms", ms_flag(idle), "--header-timeout-ms",
                                ms_flag(header_deadline)});
    {
        INFO("idle after a request");
        RawConnection conn(tokend.port());
        conn.send(kHealthz);
        REQUIRE(conn.read_responses(1, 5s).size() == 1);
        const auto answered = Clock::now();
        check_closed_within(conn, answered, window(idle), tokend);
        CHECK(conn.responses().size() == 1);  // nothing sent after the answer
    }
    {
        // Not a byte ever sent: whichever of the idle and the header deadline applies.
        INFO("idle before any request");
        RawConnection conn(tokend.port());
        const auto opened = Clock::now();
        check_closed_within(conn, opened, window(std::max(idle, header_deadline)), tokend);
        check_timeout_answer(conn);
    }
}

// Connection exhaustion: an attacker holds as many connections as tokend allows, in total
// or from one address. The next one is refused at once with a 503 that says when to come
// back, and once the hoarder lets go tokend serves again.
TEST_CASE("connections beyond the caps get 503 with Retry-After", "[tokend][hostile]") {
    struct Cap {
        std::string flag;
        int limit;
    };
    const Cap cap = GENERATE(Cap{"--max-connections", 20}, Cap{"--max-connections-per-address", 5});
    INFO(cap.flag << " " << cap.limit);
    RedisServer redis;
    // Long deadlines: the held connections stay open until the test closes them.
    Tokend tokend(redis.url(), {cap.flag, std::to_string(cap.limit), "--header-timeout-ms", "60000",
                                "--idle-timeout-ms", "60000"});
    // The harness's start-up probe connection must be gone before the count starts.
    std::this_thread::sleep_for(300ms);
    std::vector<RawConnection> held;
    for (int i = 0; i < cap.limit; ++i) {
        held.emplace_back(tokend.port());
        held.back().send("GET /healthz HTTP/1.1\r\n");  // a request begun, never finished
    }
    std::this_thread::sleep_for(300ms);  // tokend has accepted them all
    for (auto& conn : held) {
        INFO("a held connection within the cap was answered or closed");
        REQUIRE(conn.read_available(0ms).empty());
        REQUIRE_FALSE(conn.peer_closed());
    }

    RawConnection extra(tokend.port());
    extra.send(kHealthz);
    const auto sent = Clock::now();
    const auto r = check_response(extra, 5s, tokend);
    REQUIRE(r);
    check_error(*r, 503, "temporarily_unavailable");
    const std::string retry_after = r->header("Retry-After");
    INFO("Retry-After: " << retry_after);
    CHECK(!retry_after.empty());
    CHECK(std::all_of(retry_after.begin(), retry_after.end(),
                      [](unsigned char c) { return std::isdigit(c) != 0; }));
    CHECK(says_close(*r));
    check_closed_within(extra, sent, 5s, tokend);

    held.clear();  // the hoarder lets go
    const auto give_up = Clock::now() + 10s;
    Reply health;
    do {
        health = fresh_get(tokend, "/healthz", 3s);
        if (health.status != 200) {
            std::this_thread::sleep_for(100ms);
        }
    } while (health.status != 200 && Clock::now() < give_up);
    TKA_REQUIRE_STATUS(health, 200, tokend);
}

// A second tokend on a port already taken (a deploy that forgot the old one) fails at
// once and says why, instead of running without listening.
TEST_CASE("a second tokend on a taken port exits 1 naming the address", "[tokend][hostile]") {
    RedisServer redis;
    Tokend first(redis.url());
    const std::string listen = concat({"127.0.0.1:", std::to_string(first.port())});
    auto second = run({kTokendBinary, "--redis-url", redis.url(), "--listen", listen}, "", {}, 10s);
    INFO(second.err);
    CHECK(second.exit_code == 1);
    CHECK(second.err.find("\"event\":\"start\"") == std::string::npos);  // never started
    CHECK(std::count(second.err.begin(), second.err.end(), '\n') == 1);
    CHECK(second.err.find(listen) != std::string::npos);
    TKA_REQUIRE_STATUS(fresh_get(first, "/healthz", 5s), 200, first);
}

// Numeric flags that C's number parsers would half-accept (a NaN passes every range check,
// "12abc" reads as 12, -1 wraps to SIZE_MAX): each stops tokend at start, exit status 2,
// one line on stderr naming the flag.
TEST_CASE("malformed numeric flags exit 2 with one line", "[tokend][hostile]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"--rate-limit", "nan"},
        {"--rate-limit", "inf"},
        {"--rate-limit", "1e999"},
        {"--rate-limit", "12abc"},
        {"--max-body-bytes", "-1"},
        {"--header-timeout-ms", "abc"},
        {"--max-connections", "0"},
        {"--header-timeout-ms", "0"},
        {"--max-header-bytes", "99999999999999999999"},
    };
    const std::string listen = concat({"127.0.0.1:", std::to_string(free_port())});
    for (const auto& [flag, value] : cases) {
        INFO(flag << " " << value);
        auto r = run(
            {kTokendBinary, "--redis-url", "redis://127.0.0.1:1", "--listen", listen, flag, value},
            "", {}, 10s);
        INFO("stderr: " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK(r.err.find(flag) != std::string::npos);
    }
}

// A Redis that accepts connections but never answers (a stopped process, a half-dead
// network path): every request still gets an answer, a 503 within the Redis timeout, no
// connection hangs, and tokend recovers by itself once Redis answers again.
TEST_CASE("a silent Redis gets 503s, never hung connections, and recovery is automatic",
          "[tokend][hostile]") {
    RedisServer redis;
    TestOrg org = make_org(redis);
    Tokend tokend(redis.url(), {"--redis-timeout-ms", "300"});
    HttpClient client = tokend.client();
    TKA_REQUIRE_STATUS(get(client, "/healthz"), 200, tokend);
    TKA_REQUIRE_STATUS(post_json(client, "/v2/tokens/create", create_body(org, "a@example.com")),
                       200, tokend);
    {
        StoppedProcess silent(redis.pid());
        for (int i = 0; i < 5; ++i) {
            INFO("health check " << i);
            const auto t0 = Clock::now();
            TKA_REQUIRE_ERROR(fresh_get(tokend, "/healthz", 5s), 503, "temporarily_unavailable",
                              tokend);
            CHECK(Clock::now() - t0 < 3s);  // 10x the Redis timeout
        }
        const auto t0 = Clock::now();
        TKA_REQUIRE_ERROR(post_json(client, "/v2/tokens/create", create_body(org, "b@example.com")),
                          503, "temporarily_unavailable", tokend);
        CHECK(Clock::now() - t0 < 3s);

        // Many at once: each still answered.
        constexpr int kClients = 8;
        std::vector<int> statuses(2 * kClients, 0);
        std::vector<std::thread> threads;
        for (int i = 0; i < kClients; ++i) {
            threads.emplace_back([&, i] {
                HttpClient c = tokend.client();
                c.set_read_timeout(5s);
                statuses[2 * i] = get(c, "/healthz").status;
                statuses[2 * i + 1] =
                    post_json(c, "/v2/tokens/create", create_body(org, "c@example.com")).status;
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        for (std::size_t i = 0; i < statuses.size(); ++i) {
            INFO("request " << i);
            CHECK(statuses[i] == 503);
        }
    }

    const auto give_up = Clock::now() + 10s;
    Reply health;
    Reply created;
    do {
        health = fresh_get(tokend, "/healthz", 5s);
        if (health.status == 200) {
            created = post_json(client, "/v2/tokens/create", create_body(org, "d@example.com"));
        }
        if (created.status != 200) {
            std::this_thread::sleep_for(100ms);
        }
    } while (created.status != 200 && Clock::now() < give_up);
    TKA_REQUIRE_STATUS(health, 200, tokend);
    TKA_REQUIRE_STATUS(created, 200, tokend);
}

// TLS: the API over HTTPS with the certificate verified, and a client that opens a socket
// and never sends its ClientHello (a TLS slowloris) is cut off by the header deadline.
TEST_CASE("TLS works, and a client that never says hello is cut off", "[tokend][hostile]") {
    const milliseconds header_deadline = 1s;
    RedisServer redis;
    TestOrg org = make_org(redis);
    TempDir dir;
    const TlsFiles tls = make_tls_files(dir);
    Tokend tokend(redis.url(), {"--tls-cert", tls.cert, "--tls-key", tls.key, "--header-timeout-ms",
                                ms_flag(header_deadline)});

    RawConnection silent(tokend.port());
    const auto opened = Clock::now();

    HttpClientOptions verified;
    verified.tls = true;
    verified.ca_file = tls.cert;
    HttpClient client("127.0.0.1", tokend.port(), verified);
    const Reply r = post_json(client, "/v2/tokens/create", create_body(org, "tls@example.com"));
    INFO(client.last_error());
    TKA_REQUIRE_STATUS(r, 200, tokend);
    CHECK(r.json.value("access_token", "").rfind("tkn_", 0) == 0);

    check_closed_within(silent, opened, window(header_deadline), tokend);
}
