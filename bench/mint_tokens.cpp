// mint_tokens: mints many tokens fast, in-process, through the same stores tokend uses
// (tka::OrgStore / tka::TokenStore, so every token also lands on the event stream), and
// writes them as a credential file for the load tools.
//
//   mint_tokens --redis-url URL --count N [--ttl 3600] [--out FILE] [--threads 2]
//               [--org-id ORG --secret-key SK] [--same-now] [--tag TEXT]
//
// Without --org-id a new organization (token auth on, TTL --ttl) is created. --same-now
// mints every token with one "now", so all of them expire in the same second (expiry
// benchmark). Output file lines: username<TAB>password<TAB>expires_at. Prints one line:
// org= secret_key= count= seconds= rate= expires_min= expires_max=.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench/bench_util.hpp"
#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/redis_url.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"

int main(int argc, char** argv) try {
    using namespace tka::bench;
    const Args args(argc, argv);
    tka::RedisOptions options;
    options.endpoint = tka::parse_redis_url(args.require("redis-url"));
    options.command_timeout = std::chrono::milliseconds(5000);
    const long count = args.num("count", 1000);
    const long ttl = args.num("ttl", 3600);
    const int threads = static_cast<int>(std::max(1L, args.num("threads", 2)));
    const bool same_now = args.has("same-now");
    const std::string tag =
        args.str("tag", std::to_string(getpid()) + "-" + std::to_string(tka::unix_now()));

    tka::RedisConnection admin(options);
    tka::OrgStore orgs(admin);
    std::string secret_key;
    tka::Organization org;
    if (args.has("org-id")) {
        secret_key = args.require("secret-key");
        org = orgs.authenticate(args.require("org-id"), secret_key);
    } else {
        auto created = orgs.create("bench-" + tag, ttl, true, tka::unix_now());
        org = created.org;
        secret_key = created.first_key.secret_key;
    }

    std::vector<tka::IssuedToken> issued(static_cast<std::size_t>(count));
    const tka::UnixSeconds fixed_now = tka::unix_now();
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    std::mutex error_mutex;
    std::string error;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            try {
                tka::RedisConnection redis(options);
                tka::TokenStore tokens(redis);
                for (long i = t; i < count; i += threads) {
                    std::string email = std::to_string(i);  // appended, not "u" + ...:
                    email.insert(0, 1, 'u');  // GCC 12 -Wrestrict false positive otherwise
                    email.append("-").append(tag).append("@bench.example.com");
                    issued[static_cast<std::size_t>(i)] =
                        tokens.create(org, email, false, same_now ? fixed_now : tka::unix_now());
                }
            } catch (const std::exception& e) {
                std::lock_guard lock(error_mutex);
                error = e.what();
            }
        });
    }
    for (auto& th : workers) {
        th.join();
    }
    if (!error.empty()) {
        throw std::runtime_error(error);
    }
    const double elapsed = seconds_since(start);

    tka::UnixSeconds min_exp = 0;
    tka::UnixSeconds max_exp = 0;
    if (args.has("out")) {
        std::ofstream out(args.require("out"));
        for (const auto& tok : issued) {
            out << tok.username() << '\t' << tok.password << '\t' << tok.expires_at << '\n';
        }
        if (!out) {
            throw std::runtime_error("cannot write " + args.require("out"));
        }
    }
    for (const auto& tok : issued) {
        min_exp = min_exp == 0 ? tok.expires_at : std::min(min_exp, tok.expires_at);
        max_exp = std::max(max_exp, tok.expires_at);
    }
    ResultLine()
        .add("org", org.org_id)
        .add("secret_key", secret_key)
        .add("count", static_cast<std::uint64_t>(count))
        .add("seconds", elapsed, 3)
        .add("rate", elapsed > 0 ? static_cast<double>(count) / elapsed : 0, 0)
        .add("expires_min", static_cast<std::uint64_t>(min_exp))
        .add("expires_max", static_cast<std::uint64_t>(max_exp))
        .print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "mint_tokens: %s\n", e.what());
    return 2;
}
