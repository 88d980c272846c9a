// load_tokens: fills a Redis with many live tokens fast, for the replica sync benchmark.
// One new organization (token auth on) per count; its tokens are written by the bulk
// writer of tests/support/token_loader.hpp: exactly the keys and values the create_token
// script writes, pipelined (minting a million through the script takes minutes).
//
//   load_tokens --redis-url URL --counts 300000,700000 [--ttl 3600] [--sample 1000]
//               [--out FILE] [--batch 500] [--connections 2] [--no-events]
//
// --sample N: N credentials per org, spread over its tokens, written to --out (lines
// username<TAB>password<TAB>expires_at, the format of the other load tools). Prints one
// line: orgs= tokens= seconds= rate=.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/redis_url.hpp"
#include "common/time_format.hpp"
#include "tests/support/token_loader.hpp"

int main(int argc, char** argv) try {
    using namespace tka::bench;
    const Args args(argc, argv);
    tka::RedisOptions options;
    options.endpoint = tka::parse_redis_url(args.require("redis-url"));
    options.command_timeout = std::chrono::milliseconds(30000);
    std::vector<std::size_t> counts;
    {
        std::stringstream list(args.require("counts"));
        std::string item;
        while (std::getline(list, item, ',')) {
            counts.push_back(static_cast<std::size_t>(std::stoul(item)));
        }
    }
    const long ttl = args.num("ttl", 3600);
    const auto sample = static_cast<std::size_t>(std::max(0L, args.num("sample", 1000)));
    tka::test::BulkLoadOptions load;
    load.batch = static_cast<std::size_t>(std::max(1L, args.num("batch", 500)));
    load.events = !args.has("no-events");
    load.connections = static_cast<std::size_t>(std::max(1L, args.num("connections", 2)));

    tka::RedisConnection redis(options);
    tka::OrgStore orgs(redis);
    std::ofstream out;
    if (args.has("out")) {
        out.open(args.require("out"));
    }
    std::size_t total = 0;
    const auto start = Clock::now();
    for (std::size_t o = 0; o < counts.size(); ++o) {
        std::string name = "sync-bench-";
        name.append(std::to_string(o));
        const tka::Organization org = orgs.create(name, ttl, true, tka::unix_now()).org;
        const std::size_t every = sample == 0 ? 0 : std::max<std::size_t>(1, counts[o] / sample);
        std::size_t i = 0;
        load.email_tag = std::to_string(o);
        load.email_tag.insert(0, 1, 'o');
        tka::test::bulk_create_tokens(redis, org, counts[o], tka::unix_now(), load,
                                      [&](std::size_t, const tka::IssuedToken& t) {
                                          if (out.is_open() && every != 0 && i % every == 0) {
                                              out << t.username() << '\t' << t.password << '\t'
                                                  << t.expires_at << '\n';
                                          }
                                          ++i;
                                      });
        total += counts[o];
    }
    if (out.is_open() && !out.flush()) {
        throw std::runtime_error("cannot write " + args.require("out"));
    }
    const double elapsed = seconds_since(start);
    ResultLine()
        .add("orgs", static_cast<std::uint64_t>(counts.size()))
        .add("tokens", static_cast<std::uint64_t>(total))
        .add("seconds", elapsed, 2)
        .add("rate", elapsed > 0 ? static_cast<double>(total) / elapsed : 0, 0)
        .print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "load_tokens: %s\n", e.what());
    return 2;
}
