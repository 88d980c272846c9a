// replica_memory: what the broker's token replica costs per token. Inserts --tokens tokens
// (as a full sync does: TokenReplica::insert, two organizations, one user per token) into
// one TokenReplica, then reports the process's resident memory growth per token (from
// /proc/self/statm, so allocator overhead and index load factor are included), the longest
// single insert (an index doubling), and the median time of one lookup that finds the
// token (includes hashing the user id) and of one that refuses an unknown password.
// Build in a Release tree (-DTKA_BUILD_BENCH=ON).
//
//   replica_memory [--tokens 1000000] [--lookups 200000]
//
// Prints one line: tokens= rss_bytes_per_token= replica_bytes_per_token= insert_max_ms=
// lookup_hit_ns_median= lookup_unknown_ns_median=.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench/bench_util.hpp"
#include "common/crypto.hpp"
#include "plugin/token_replica.hpp"

namespace {

using tka::plugin::PasswordDigest;
using tka::plugin::TokenReplica;

constexpr tka::UnixSeconds kNow = 1'800'000'000;

long rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    long size = 0;
    long resident = 0;
    if (!(statm >> size >> resident)) {
        throw std::runtime_error("cannot read /proc/self/statm");
    }
    return resident * sysconf(_SC_PAGESIZE);
}

// Token i, derived from a seed so the lookups can regenerate what was inserted.
struct Token {
    std::string org;
    std::string user;
    std::string id;
    PasswordDigest digest{};
};

Token token(std::uint64_t i) {
    std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ULL + 1);
    Token t;
    t.org = i % 10 < 3 ? "org_aaaaaaaaaaaa" : "org_bbbbbbbbbbbb";
    for (auto& b : t.digest) {
        b = static_cast<std::uint8_t>(rng());
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%024llx", static_cast<unsigned long long>(rng() >> 8));
    t.user = buf;
    const std::uint64_t a = rng();
    const std::uint64_t b = rng();
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                  static_cast<unsigned long long>(a >> 32),
                  static_cast<unsigned long long>((a >> 16) & 0xffff),
                  static_cast<unsigned long long>(a & 0xfff),
                  static_cast<unsigned long long>((b >> 48) & 0xfff),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    t.id = buf;
    return t;
}

std::string hex(const PasswordDigest& d) {
    return tka::crypto::hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// Median over batches of 100 lookups of the time per lookup, in ns.
template <class F>
double median_ns(long lookups, F&& one) {
    std::vector<double> per_batch;
    for (long done = 0; done < lookups; done += 100) {
        const auto start = tka::bench::Clock::now();
        for (long i = done; i < done + 100; ++i) {
            one(i);
        }
        per_batch.push_back(tka::bench::seconds_since(start) * 1e9 / 100);
    }
    return tka::bench::percentile(per_batch, 50);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const tka::bench::Args args(argc, argv);
        const long n = args.num("tokens", 1000000);
        const long lookups = args.num("lookups", 200000);
        if (n < 1 || lookups < 100) {
            throw std::runtime_error("--tokens >= 1 and --lookups >= 100");
        }
        TokenReplica replica(static_cast<std::size_t>(n));
        replica.set_org("org_aaaaaaaaaaaa", true);
        replica.set_org("org_bbbbbbbbbbbb", true);
        const long before = rss_bytes();
        double insert_max = 0;
        for (long i = 0; i < n; ++i) {
            const Token t = token(static_cast<std::uint64_t>(i));
            const std::string digest_hex = hex(t.digest);
            const auto start = tka::bench::Clock::now();
            if (!replica.insert(t.org, t.user, t.id, digest_hex, kNow + 3600, kNow)) {
                throw std::runtime_error("insert refused: " + t.id);
            }
            insert_max = std::max(insert_max, tka::bench::seconds_since(start));
        }
        const long after = rss_bytes();
        replica.set_trusted(true);
        replica.renew_lease(tka::bench::Clock::now() + std::chrono::hours(1));

        std::vector<Token> sample;
        std::mt19937_64 pick(7);
        for (long i = 0; i < std::min(lookups, 100000L); ++i) {
            sample.push_back(token(pick() % static_cast<std::uint64_t>(n)));
        }
        long wrong = 0;
        const double hit_ns = median_ns(lookups, [&](long i) {
            const Token& t = sample[static_cast<std::size_t>(i) % sample.size()];
            wrong += replica.lookup(t.org, t.user, t.digest, kNow).kind ==
                             tka::plugin::ReplicaAnswer::Kind::allow
                         ? 0
                         : 1;
        });
        std::vector<PasswordDigest> unknown(sample.size());
        for (auto& d : unknown) {
            for (auto& b : d) {
                b = static_cast<std::uint8_t>(pick());
            }
        }
        const double unknown_ns = median_ns(lookups, [&](long i) {
            const std::size_t k = static_cast<std::size_t>(i) % sample.size();
            wrong += replica.lookup(sample[k].org, sample[k].user, unknown[k], kNow).kind ==
                             tka::plugin::ReplicaAnswer::Kind::unknown
                         ? 0
                         : 1;
        });
        if (wrong != 0) {
            throw std::runtime_error(std::to_string(wrong) + " wrong answers");
        }
        const auto stats = replica.stats();
        tka::bench::ResultLine()
            .add("tokens", static_cast<std::uint64_t>(n))
            .add("rss_bytes_per_token",
                 static_cast<double>(after - before) / static_cast<double>(n))
            .add("replica_bytes_per_token",
                 static_cast<double>(stats.bytes) / static_cast<double>(n))
            .add("insert_max_ms", insert_max * 1e3, 2)
            .add("lookup_hit_ns_median", hit_ns, 0)
            .add("lookup_unknown_ns_median", unknown_ns, 0)
            .print();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "replica_memory: %s\n", e.what());
        return 1;
    }
}
