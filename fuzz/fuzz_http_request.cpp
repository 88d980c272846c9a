// Fuzz target for tokend's front door: every input is the byte stream one client sends on
// one connection. It goes over a loopback socket into the real server code (an accepted
// connection served by tokend/http_session.cpp: Beast's parser, the framing checks, the
// route table, the API's checks and handlers), with the token store replaced by an
// in-memory TokenService and Redis unreachable (so /healthz answers 503). The client sends
// the input, closes its sending side and reads until the server closes. Beyond "no crash,
// no leak, no undefined behaviour, no hang", every answer must be well-formed HTTP/1.x
// with a status tokend uses, errors must carry the JSON error body, and no answer may
// repeat the secret key or a password the input carried.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "common/errors.hpp"
#include "fuzz/fuzz_check.hpp"
#include "tokend/api.hpp"
#include "tokend/connection_limits.hpp"
#include "tokend/health_probe.hpp"
#include "tokend/http_session.hpp"
#include "tokend/redis_workers.hpp"
#include "tokend/request_log.hpp"
#include "tokend/token_service.hpp"

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace tka::tokend;

constexpr std::string_view kOrg = "org_fuzzfuzzfuzz";
constexpr std::string_view kKey = "sk_FuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzz";
constexpr std::string_view kPassword = "tkn_FuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuz";

// The store of one fixed organization with one key; every token is the same fixed one.
class FakeTokens final : public TokenService {
  public:
    tka::IssuedToken create(const CreateRequest& req, tka::UnixSeconds now) override {
        check_key(req.organization_id, req.secret_key);
        return token(req.user_email, now);
    }
    tka::IssuedToken refresh(const RefreshRequest& req, tka::UnixSeconds now) override {
        if (req.current_token_password != kPassword) {
            throw tka::Denied(tka::Refusal::wrong_password, "wrong password");
        }
        return token("fuzz@example.com", now);
    }
    std::vector<std::string> revoke(const RevokeRequest& req, tka::UnixSeconds) override {
        check_key(req.organization_id, req.secret_key);
        return {req.token_id.value_or("00000000-0000-4000-8000-000000000000")};
    }

  private:
    static void check_key(const std::string& org, const std::string& key) {
        if (org != kOrg || key != kKey) {
            throw tka::Denied(tka::Refusal::bad_secret_key, "wrong key");
        }
    }
    static tka::IssuedToken token(const std::string& email, tka::UnixSeconds now) {
        tka::IssuedToken t;
        t.token_id = "00000000-0000-4000-8000-000000000000";
        t.password = std::string(kPassword);
        t.org_id = std::string(kOrg);
        t.user_id = "0123456789abcdef01234567";
        t.email = email;
        t.ttl = 3600;
        t.expires_at = now + 3600;
        return t;
    }
};

HttpLimits fuzz_limits() {
    HttpLimits l;
    // Inputs end with the client's FIN, so no deadline is ever reached on a good run; short
    // ones keep a hang (a bug) from stalling the fuzzer for long.
    l.header_timeout = std::chrono::milliseconds(3000);
    l.body_timeout = std::chrono::milliseconds(3000);
    l.idle_timeout = std::chrono::milliseconds(3000);
    l.write_timeout = std::chrono::milliseconds(3000);
    l.max_header_bytes = 2048;
    l.max_header_fields = 16;
    l.max_body_bytes = 1024;
    return l;
}

tka::RedisOptions unreachable_redis() {
    tka::RedisOptions o;
    o.endpoint = tka::parse_redis_url("redis://127.0.0.1:1");
    o.connect_timeout = std::chrono::milliseconds(50);
    o.command_timeout = std::chrono::milliseconds(50);
    o.max_backoff = std::chrono::milliseconds(50);
    return o;
}

// One server for the whole fuzzing run, serving on its own thread.
struct Harness {
    HttpLimits limits = fuzz_limits();
    Metrics metrics;
    RateLimiter limiter{0, 0};
    RequestLog log{::open("/dev/null", O_WRONLY | O_CLOEXEC)};
    // Failure throttling off: a blocked loopback address would answer every later token
    // request with 429 and hide the handlers from the fuzzer.
    AuthThrottle throttle{[] {
        ThrottleOptions o;
        o.auth_fail_threshold = 0;
        o.org_fail_threshold = 0;
        return o;
    }()};
    Api api{ApiOptions{"fuzz", {}}, metrics, limiter, throttle};
    RedisWorkers workers{RedisWorkers::Options{unreachable_redis(), 1, 64, {}}};
    HealthProbe health{unreachable_redis(),
                       [this](tka::RedisConnection& redis) { return api.healthz(redis); }};
    FakeTokens tokens;
    SessionContext context{limits, api, workers, health, metrics, log};
    ConnectionLimits connections{1000, 1000};
    net::io_context ioc;
    tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
    std::thread thread;

    Harness() {
        context.service = &tokens;
        accept();
        thread = std::thread([this] { ioc.run(); });
    }

    void accept() {
        acceptor.async_accept(
            net::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket socket) {
                if (!ec) {
                    ConnectionLimits::Slot slot;
                    const auto peer = socket.remote_endpoint(ec);
                    if (!ec && connections.try_open(peer.address(), slot) ==
                                   ConnectionLimits::Refusal::none) {
                        start_session(std::move(socket), std::move(slot), context, nullptr);
                    }
                }
                accept();
            });
    }

    int port() const { return acceptor.local_endpoint().port(); }
};

Harness& harness() {
    static Harness* h = new Harness();  // never destroyed: the server outlives every input
    return *h;
}

// Sends `input` on a new connection, half-closes, and reads until the server closes.
std::string exchange(std::string_view input) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    TKA_FUZZ_CHECK(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(harness().port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int connected = -1;
    do {
        connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } while (connected != 0 && errno == EINTR);
    if (connected != 0) {
        std::fprintf(stderr, "connect: %s\n", std::strerror(errno));
    }
    TKA_FUZZ_CHECK(connected == 0);
    timeval tv{};
    tv.tv_sec = 8;  // longer than any server deadline above: no answer by then is a hang
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::size_t sent = 0;
    while (sent < input.size()) {
        const ssize_t n = ::send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;  // the server closed early (an answer that ends the connection)
        }
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    std::string out;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) {
            break;
        }
        if (n < 0 && errno == EINTR) {
            continue;  // libFuzzer's timer signal
        }
        if (n < 0) {
            if (errno != ECONNRESET) {
                // EAGAIN: no answer within the receive timeout, the server hung.
                std::fprintf(stderr, "recv: %s\n", std::strerror(errno));
            }
            TKA_FUZZ_CHECK(errno == ECONNRESET);
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    // Closed with a reset: thousands of connections a second would otherwise leave as many
    // ports in TIME_WAIT and run out of ephemeral ports.
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
    return out;
}

const std::set<unsigned> kStatuses = {100, 200, 400, 401, 403, 404, 405, 408,
                                      409, 410, 413, 415, 417, 429, 431, 503};

// Every answer in `out` parses as an HTTP response with a status tokend uses; an error
// carries {"error", "error_description"}; no answer repeats a secret of the fixed org.
void check_answers(std::string_view out) {
    while (!out.empty()) {
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        boost::system::error_code ec;
        const std::size_t used = parser.put(net::buffer(out.data(), out.size()), ec);
        TKA_FUZZ_CHECK(!ec && parser.is_done());
        const auto& res = parser.get();
        TKA_FUZZ_CHECK(kStatuses.count(res.result_int()) == 1);
        if (res.result_int() >= 400 && !res.body().empty()) {
            const auto body = nlohmann::json::parse(res.body(), nullptr, false);
            TKA_FUZZ_CHECK(body.is_object() && body.contains("error") &&
                           body.contains("error_description"));
        }
        TKA_FUZZ_CHECK(res.body().find(kKey) == std::string::npos);
        out.remove_prefix(used);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string out = exchange(input);
    // An answer to HEAD declares a body it does not carry, which a response parser cannot
    // tell from the outside: such exchanges are checked for crashes and hangs only.
    if (input.find("HEAD") == std::string_view::npos) {
        check_answers(out);
    }
    return 0;
}
