// idle_connections: what thousands of idle or stalled connections do to tokend. Measures a
// fresh client's GET /healthz latency (each on a new connection, and on one kept-alive
// connection) and a few real creates, first on the quiet server and then while N other
// connections are held open, and tokend's VmRSS before and with them. Under the flood the
// kept-alive client is one opened before it (a backend's pooled connection), used once a
// second while the flood opens; the fresh connections arrive behind the flood.
//
//   idle_connections --port P --pid TOKEND_PID [--count 10000] [--mode idle|stalled]
//                    [--per-address 100] [--in-flight 256] [--probes 200] [--creates 5]
//                    [--probe-timeout-ms 1000] [--create-timeout-ms 2000]
//                    [--series-budget-s 3] [--settle-s 1] [--connect-budget-s 30]
//                    [--recover-budget-s 15]
//                    [--org ORG --secret-key SK]   (default: BENCH_ORG_ID, BENCH_SECRET_KEY)
//
// The held connections come from 127.1.0.1, 127.1.0.2, ... (--per-address of them from
// each): the loopback interface answers all of 127.0.0.0/8, and a real flood comes from
// many addresses, so a per-address cap does not refuse them all. "idle": connected, nothing
// sent. "stalled": connected and sent the first bytes of a header ("POST /v2/tokens/cre")
// that never completes. The probes come from 127.0.0.1.
//
// Every probe series is bounded: a probe gives up after its timeout and a series stops
// after --series-budget-s (the probes not tried are counted as skipped), so a server that
// answers nothing costs a bounded time. Latency percentiles are over answered probes only;
// the counts say how many were tried and answered with 200.
//
// Prints one line of key=value pairs: held= errors= connect_s= rss_before_kb= rss_held_kb=
// per_conn_bytes= threads_before= threads_held=, then for each series (base_* on the quiet
// server, then under the flood) <name>_ok= _tried= _failed= _non200= _skipped= _p50_ms=
// _p99_ms= _max_ms=, ka_reconnects= ka_warm_requests= ka_warm_failed= (the pooled client's
// requests while the flood opened), and closed_* / answered_* (held connections the server
// closed or answered: right after the flood, and at the end) with their statuses, hold_s=
// and recover_ms= (from closing the held connections to the next 200 on /healthz).
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/http_client.hpp"

namespace {

using namespace tka::bench;
namespace h = tka::bench::http;

constexpr std::string_view kStalledPrefix = "POST /v2/tokens/cre";

struct Options {
    int port = 0;
    long pid = 0;
    std::size_t count = 10000;
    bool stalled = false;
    std::size_t per_address = 100;
    std::size_t in_flight = 256;
    std::size_t probes = 200;
    std::size_t creates = 5;
    std::chrono::milliseconds probe_timeout{1000};
    std::chrono::milliseconds create_timeout{2000};
    double series_budget_s = 3;
    double settle_s = 1;
    double connect_budget_s = 30;
    double recover_budget_s = 15;
    std::string org;
    std::string secret_key;
};

// One probe series: latencies of the answers with status 200, counts of the rest.
struct Series {
    std::vector<double> ms;
    std::uint64_t tried = 0;
    std::uint64_t failed = 0;      // no answer before the timeout, or the connection broke
    std::uint64_t non_200 = 0;     // an answer, but not 200 (e.g. 503)
    std::uint64_t skipped = 0;     // not tried: the series ran out of its time budget
    std::uint64_t reconnects = 0;  // kept-alive series: connections opened after the first

    void add_to(ResultLine& line, const std::string& name) const {
        line.add(name + "_ok", static_cast<std::uint64_t>(ms.size()))
            .add(name + "_tried", tried)
            .add(name + "_failed", failed)
            .add(name + "_non200", non_200)
            .add(name + "_skipped", skipped);
        if (ms.empty()) {
            line.add(name + "_p50_ms", "-").add(name + "_p99_ms", "-").add(name + "_max_ms", "-");
            return;
        }
        line.add(name + "_p50_ms", percentile(ms, 50), 3)
            .add(name + "_p99_ms", percentile(ms, 99), 3)
            .add(name + "_max_ms", percentile(ms, 100), 3);
    }
};

std::string healthz_request(bool close) {
    return std::string("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
           (close ? "Connection: close\r\n" : "") + "\r\n";
}

std::string create_request(const Options& o, std::size_t n) {
    char email[64];
    std::snprintf(email, sizeof email, "idle-probe-%06zu@example.com", n % 1000);
    const std::string body = "{\"organization_id\":\"" + o.org + "\",\"secret_key\":\"" +
                             o.secret_key + "\",\"user_email\":\"" + email +
                             "\",\"replace_existing\":true}";
    return "POST /v2/tokens/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Connect, send, read one answer; the answer or nullopt. `fd` is -1 on entry for a new
// connection and is left open (or -1 after a failure) for a kept-alive series.
std::optional<h::Response> exchange(int port, int& fd, const std::string& request,
                                    h::Deadline deadline) {
    if (fd < 0) {
        fd = h::start_connect(port);
        if (fd < 0 || !h::finish_connect(fd, deadline)) {
            if (fd >= 0) {
                ::close(fd);
            }
            fd = -1;
            return std::nullopt;
        }
    }
    std::optional<h::Response> r;
    if (h::send_all(fd, request, deadline)) {
        r = h::read_response(fd, deadline);
    }
    if (!r || r->close) {
        ::close(fd);
        fd = -1;
    }
    return r;
}

// `count` requests, each on a new connection (kept == nullptr), or all on the kept-alive
// connection *kept (opened when -1, reopened when the server closes it, left open).
Series run_series(const Options& o, std::size_t count, int* kept, std::chrono::milliseconds timeout,
                  const std::function<std::string(std::size_t)>& request) {
    Series s;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        if (seconds_since(start) > o.series_budget_s) {
            s.skipped = count - i;
            break;
        }
        if (kept != nullptr && *kept < 0 && i > 0) {
            ++s.reconnects;
        }
        ++s.tried;
        const auto t0 = Clock::now();
        int fresh = -1;
        int& fd = kept != nullptr ? *kept : fresh;
        const auto r = exchange(o.port, fd, request(i), t0 + timeout);
        if (fresh >= 0) {
            ::close(fresh);
        }
        if (!r) {
            ++s.failed;
        } else if (r->status != 200) {
            ++s.non_200;
        } else {
            s.ms.push_back(seconds_since(t0) * 1000);
        }
    }
    return s;
}

// A backend's pooled connection: opened on the quiet server and used once a second while
// the flood opens, so that it is an established client when the probes start (unlike the
// fresh connections, which arrive behind the flood). Stops after its first failure.
class PooledClient {
  public:
    explicit PooledClient(const Options& o) : o_(o) {}
    ~PooledClient() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    PooledClient(const PooledClient&) = delete;
    PooledClient& operator=(const PooledClient&) = delete;

    void keep_warm() {
        if (failed_ || Clock::now() - last_ < std::chrono::seconds(1)) {
            return;
        }
        last_ = Clock::now();
        ++requests_;
        const auto r = exchange(o_.port, fd_, healthz_request(false), last_ + o_.probe_timeout);
        failed_ = !r || r->status != 200;
    }
    int* fd() { return &fd_; }
    std::uint64_t requests() const { return requests_; }
    bool failed() const { return failed_; }

  private:
    const Options& o_;
    int fd_ = -1;
    Clock::time_point last_{};
    std::uint64_t requests_ = 0;
    bool failed_ = false;
};

struct Probes {
    Series fresh;
    Series kept_alive;
    Series creates;
};

Probes run_probes(const Options& o, int* kept) {
    Probes p;
    p.fresh = run_series(o, o.probes, nullptr, o.probe_timeout,
                         [](std::size_t) { return healthz_request(true); });
    p.kept_alive = run_series(o, o.probes, kept, o.probe_timeout,
                              [](std::size_t) { return healthz_request(false); });
    if (!o.org.empty()) {
        p.creates = run_series(o, o.creates, nullptr, o.create_timeout,
                               [&o](std::size_t n) { return create_request(o, n); });
    }
    return p;
}

struct Flood {
    std::vector<int> fds;  // connected (and, stalled, the partial header sent)
    std::uint64_t errors = 0;
    double seconds = 0;
};

// Opens o.count connections, at most o.in_flight connects outstanding at once; calls
// `tick` between rounds.
Flood open_flood(const Options& o, const std::function<void()>& tick) {
    struct Pending {
        int fd;
        Clock::time_point since;
    };
    Flood flood;
    std::vector<Pending> pending;
    std::size_t next = 0;
    const auto start = Clock::now();
    const auto give_up = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(o.connect_budget_s));
    while ((next < o.count || !pending.empty()) && Clock::now() < give_up) {
        tick();
        while (next < o.count && pending.size() < o.in_flight) {
            const auto source = h::loopback_address((1U << 16) + 1 + next / o.per_address);
            const int fd = h::start_connect(o.port, source);
            ++next;
            if (fd < 0) {
                ++flood.errors;
                continue;
            }
            pending.push_back({fd, Clock::now()});
        }
        std::vector<pollfd> fds;
        fds.reserve(pending.size());
        for (const auto& p : pending) {
            fds.push_back({p.fd, POLLOUT, 0});
        }
        if (::poll(fds.data(), fds.size(), 100) <= 0) {
            continue;
        }
        std::vector<Pending> still;
        for (std::size_t i = 0; i < pending.size(); ++i) {
            if (fds[i].revents == 0) {
                still.push_back(pending[i]);
                continue;
            }
            const int fd = pending[i].fd;
            bool ok = h::connect_error(fd) == 0;
            if (ok && o.stalled) {
                ok = ::send(fd, kStalledPrefix.data(), kStalledPrefix.size(), MSG_NOSIGNAL) ==
                     static_cast<ssize_t>(kStalledPrefix.size());
            }
            if (ok) {
                flood.fds.push_back(fd);
            } else {
                ++flood.errors;
                ::close(fd);
            }
        }
        pending.swap(still);
    }
    for (const auto& p : pending) {  // connect budget spent
        ++flood.errors;
        ::close(p.fd);
    }
    flood.errors += o.count - next;
    flood.seconds = seconds_since(start);
    return flood;
}

// Held connections the server has closed (without a word) or answered (e.g. a 503 or 408,
// with or without closing), looked at without consuming anything.
struct HeldState {
    std::uint64_t closed = 0;
    std::uint64_t answered = 0;
    std::map<int, std::uint64_t> statuses;

    void add_to(ResultLine& line, const std::string& when) const {
        std::string text;
        for (const auto& [status, n] : statuses) {
            text += (text.empty() ? "" : ",") + std::to_string(status) + ":" + std::to_string(n);
        }
        line.add("closed_" + when, closed)
            .add("answered_" + when, answered)
            .add("statuses_" + when, text.empty() ? "-" : text);
    }
};

HeldState look_at(const std::vector<int>& held) {
    HeldState state;
    std::vector<pollfd> fds;
    fds.reserve(held.size());
    for (int fd : held) {
        fds.push_back({fd, static_cast<short>(POLLIN | POLLRDHUP), 0});
    }
    if (::poll(fds.data(), fds.size(), 0) <= 0) {
        return state;
    }
    char buf[16];
    for (const auto& p : fds) {
        if (p.revents == 0) {
            continue;
        }
        const ssize_t n = ::recv(p.fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) {
            ++state.answered;
            ++state.statuses[h::status_of(std::string_view(buf, static_cast<std::size_t>(n)))];
        } else if (n == 0 || errno != EAGAIN) {
            ++state.closed;
        }
    }
    return state;
}

// Once the held connections are gone: milliseconds until a fresh GET /healthz is answered
// with 200 again (probes of up to --probe-timeout-ms in a row), -1 after --recover-budget-s.
double time_to_recover(const Options& o) {
    const auto start = Clock::now();
    while (seconds_since(start) < o.recover_budget_s) {
        int fd = -1;
        const auto r = exchange(o.port, fd, healthz_request(true), Clock::now() + o.probe_timeout);
        if (fd >= 0) {
            ::close(fd);
        }
        if (r && r->status == 200) {
            return seconds_since(start) * 1000;
        }
        if (r) {  // an answer, but not yet 200: do not spin
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    return -1;
}

// The number of threads of a process (Threads: in /proc/<pid>/status), -1 when unknown.
long process_threads(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Threads:", 0) == 0) {
            return std::stol(line.substr(8));
        }
    }
    return -1;
}

// Raises the soft descriptor limit to the hard one; throws when `need` does not fit.
void ensure_descriptors(std::size_t need) {
    rlimit l{};
    getrlimit(RLIMIT_NOFILE, &l);
    l.rlim_cur = l.rlim_max;
    setrlimit(RLIMIT_NOFILE, &l);
    if (l.rlim_cur != RLIM_INFINITY && l.rlim_cur < need) {
        throw std::runtime_error("need " + std::to_string(need) + " descriptors, the limit is " +
                                 std::to_string(l.rlim_cur) + " (raise ulimit -n)");
    }
}

Options parse(const Args& args) {
    Options o;
    o.port = static_cast<int>(std::stol(args.require("port")));
    o.pid = std::stol(args.require("pid"));
    o.count = static_cast<std::size_t>(args.num("count", 10000));
    const std::string mode = args.str("mode", "idle");
    if (mode != "idle" && mode != "stalled") {
        throw std::runtime_error("--mode must be idle or stalled");
    }
    o.stalled = mode == "stalled";
    o.per_address = static_cast<std::size_t>(std::max(1L, args.num("per-address", 100)));
    o.in_flight = static_cast<std::size_t>(std::max(1L, args.num("in-flight", 256)));
    o.probes = static_cast<std::size_t>(args.num("probes", 200));
    o.creates = static_cast<std::size_t>(args.num("creates", 5));
    o.probe_timeout = std::chrono::milliseconds(args.num("probe-timeout-ms", 1000));
    o.create_timeout = std::chrono::milliseconds(args.num("create-timeout-ms", 2000));
    o.series_budget_s = args.real("series-budget-s", 3);
    o.settle_s = args.real("settle-s", 1);
    o.connect_budget_s = args.real("connect-budget-s", 30);
    o.recover_budget_s = args.real("recover-budget-s", 15);
    const char* env_org = std::getenv("BENCH_ORG_ID");
    const char* env_key = std::getenv("BENCH_SECRET_KEY");
    o.org = args.str("org", env_org != nullptr ? env_org : "");
    o.secret_key = args.str("secret-key", env_key != nullptr ? env_key : "");
    return o;
}

}  // namespace

int main(int argc, char** argv) try {
    const Options o = parse(Args(argc, argv));
    ensure_descriptors(o.count + 64);

    // Warm up (the first create loads the organization's salt), then the quiet server.
    run_series(o, 20, nullptr, o.probe_timeout, [](std::size_t) { return healthz_request(true); });
    int base_kept = -1;
    const Probes base = run_probes(o, &base_kept);
    ::close(base_kept);
    const long rss_before = process_rss_kb(o.pid);
    const long threads_before = process_threads(o.pid);

    PooledClient pooled(o);
    pooled.keep_warm();
    const Flood flood = open_flood(o, [&pooled] { pooled.keep_warm(); });
    const auto held_since = Clock::now();
    while (seconds_since(held_since) < o.settle_s) {
        pooled.keep_warm();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const long rss_held = process_rss_kb(o.pid);
    const long threads_held = process_threads(o.pid);
    const HeldState settled = look_at(flood.fds);

    const Probes loaded = run_probes(o, pooled.fd());
    const HeldState end = look_at(flood.fds);
    const double hold_s = seconds_since(held_since);
    for (int fd : flood.fds) {
        h::close_reset(fd);
    }
    const double recover_ms = time_to_recover(o);

    const std::size_t n = flood.fds.size();
    ResultLine line;
    line.add("mode", o.stalled ? "stalled" : "idle")
        .add("count", static_cast<std::uint64_t>(o.count))
        .add("held", static_cast<std::uint64_t>(n))
        .add("errors", flood.errors)
        .add("connect_s", flood.seconds, 2)
        .add("rss_before_kb", static_cast<std::uint64_t>(rss_before))
        .add("rss_held_kb", static_cast<std::uint64_t>(rss_held))
        .add("per_conn_bytes",
             n > 0 ? static_cast<double>(rss_held - rss_before) * 1024.0 / static_cast<double>(n)
                   : 0,
             0)
        .add("threads_before", static_cast<std::uint64_t>(threads_before))
        .add("threads_held", static_cast<std::uint64_t>(threads_held));
    base.fresh.add_to(line, "base_fresh");
    base.kept_alive.add_to(line, "base_ka");
    base.creates.add_to(line, "base_create");
    loaded.fresh.add_to(line, "fresh");
    loaded.kept_alive.add_to(line, "ka");
    loaded.creates.add_to(line, "create");
    line.add("ka_reconnects", loaded.kept_alive.reconnects)
        .add("ka_warm_requests", pooled.requests())
        .add("ka_warm_failed", static_cast<std::uint64_t>(pooled.failed() ? 1 : 0));
    settled.add_to(line, "settle");
    end.add_to(line, "end");
    line.add("hold_s", hold_s, 1);
    if (recover_ms < 0) {
        line.add("recover_ms", "-");
    } else {
        line.add("recover_ms", recover_ms, 1);
    }
    line.print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "idle_connections: %s\n", e.what());
    return 2;
}
