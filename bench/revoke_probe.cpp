// revoke_probe: the window between a revocation committing in Redis and the broker acting on
// it, seen from outside: mints N tokens (in-process, tka::TokenStore), holds one connection
// per token, then revokes the tokens one by one at a steady pace from a second thread and
// records, per token, the time from the start of its revoke call (an upper bound of the
// commit time) to the broker closing that connection. This is the event -> plugin -> kick
// path (the replica applying an event) plus the broker's tick delay.
//
//   revoke_probe --redis-url URL --port P [--count 1000] [--rate 500] [--grace-s 5]
//
// Prints one line: connected= revoked= closed= open_after= p50_ms= p99_ms= max_ms=.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <unistd.h>

#include "bench/bench_util.hpp"
#include "bench/mass_connect.hpp"
#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/redis_url.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"

int main(int argc, char** argv) try {
    using namespace tka::bench;
    const Args args(argc, argv);
    const int port = static_cast<int>(std::stol(args.require("port")));
    const auto count = static_cast<std::size_t>(args.num("count", 1000));
    const double rate = args.real("rate", 500);
    const double grace = args.real("grace-s", 5);
    tka::RedisOptions options;
    options.endpoint = tka::parse_redis_url(args.require("redis-url"));
    options.command_timeout = std::chrono::milliseconds(5000);

    tka::RedisConnection redis(options);
    tka::OrgStore orgs(redis);
    tka::TokenStore tokens(redis);
    const std::string tag = std::to_string(getpid()) + "-" + std::to_string(tka::unix_now());
    const auto org = orgs.create("bench-revoke-" + tag, 3600, true, tka::unix_now()).org;
    std::vector<tka::IssuedToken> issued;
    std::vector<Credential> creds;
    for (std::size_t i = 0; i < count; ++i) {
        std::string email = std::to_string(i);
        email.insert(0, 1, 'r');
        email.append("-").append(tag).append("@bench.example.com");
        issued.push_back(tokens.create(org, email, false, tka::unix_now()));
        creds.push_back({issued.back().username(), issued.back().password, 0});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let brokers hear of them
    auto opened = mass_connect(port, creds, creds.size(), "rev-" + std::to_string(getpid()) + "-");

    // revoked_at[i]: unix seconds when the revoke call for credential i started (0: not yet).
    std::vector<std::atomic<double>> revoked_at(count);
    std::atomic<bool> revoker_done{false};
    std::atomic<std::size_t> revoked{0};
    std::thread revoker([&] {
        tka::RedisConnection conn(options);
        tka::TokenStore store(conn);
        const auto interval = std::chrono::duration<double>(1.0 / rate);
        auto next = Clock::now();
        for (const auto& h : opened.held) {
            std::this_thread::sleep_until(next);
            next += std::chrono::duration_cast<Clock::duration>(interval);
            revoked_at[h.credential].store(unix_now());
            store.revoke(org.org_id, issued[h.credential].token_id, tka::unix_now());
            revoked.fetch_add(1);
        }
        revoker_done = true;
    });

    std::vector<pollfd> fds;
    for (const auto& h : opened.held) {
        fds.push_back({h.fd, POLLIN, 0});
    }
    std::vector<double> delays_ms;
    std::size_t open = fds.size();
    const auto start = Clock::now();
    const double limit = static_cast<double>(count) / rate + grace + 10;
    double done_at = 0;
    while (open > 0 && seconds_since(start) < limit) {
        if (revoker_done && done_at == 0) {
            done_at = seconds_since(start);
        }
        if (done_at > 0 && seconds_since(start) > done_at + grace) {
            break;
        }
        if (poll(fds.data(), fds.size(), 10) <= 0) {
            continue;
        }
        const double at = unix_now();
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char buf[512];
            const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0 || (n < 0 && errno == EAGAIN)) {
                continue;
            }
            const double t0 = revoked_at[opened.held[i].credential].load();
            if (t0 > 0) {
                delays_ms.push_back((at - t0) * 1000.0);
            }
            ::close(fds[i].fd);
            fds[i].fd = -1;
            --open;
        }
    }
    revoker.join();
    for (auto& pfd : fds) {
        if (pfd.fd >= 0) {
            ::close(pfd.fd);
        }
    }
    ResultLine()
        .add("connected", static_cast<std::uint64_t>(opened.held.size()))
        .add("revoked", static_cast<std::uint64_t>(revoked.load()))
        .add("closed", static_cast<std::uint64_t>(delays_ms.size()))
        .add("open_after", static_cast<std::uint64_t>(open))
        .add("p50_ms", percentile(delays_ms, 50), 1)
        .add("p99_ms", percentile(delays_ms, 99), 1)
        .add("max_ms", percentile(delays_ms, 100), 1)
        .print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "revoke_probe: %s\n", e.what());
    return 2;
}
