// digest_bench: CPU cost of hashing one token password, the way tka::crypto::sha256 does it
// (SHA-256 implementation fetched once) against OpenSSL 3's implicit fetch (EVP_sha256()
// passed to EVP_DigestInit_ex on every call, as crypto.cpp did before). A check of one
// design choice, not a test: single thread, nanoseconds per call, best of --rounds.
//
//   digest_bench [--calls 200000] [--rounds 5]
//
// Prints one line: fetched_once_ns= implicit_fetch_ns= speedup=.
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "bench/bench_util.hpp"
#include "common/crypto.hpp"

namespace {

void implicit_fetch_sha256(const std::string& data, unsigned char* out) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
        throw std::runtime_error("digest failed");
    }
}

// Makes the compiler assume the bytes at `p` are read, so the digests are really computed.
void keep(const void* p) {
    asm volatile("" : : "r"(p) : "memory");
}

template <class F>
double best_ns_per_call(long calls, long rounds, F&& f) {
    double best = 1e300;
    for (long r = 0; r < rounds; ++r) {
        const auto start = tka::bench::Clock::now();
        for (long i = 0; i < calls; ++i) {
            f();
        }
        best = std::min(best, tka::bench::seconds_since(start) * 1e9 / static_cast<double>(calls));
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) try {
    const tka::bench::Args args(argc, argv);
    const long calls = args.num("calls", 200000);
    const long rounds = args.num("rounds", 5);
    const std::string password = "tkn_" + std::string(43, 'x');  // a token password's length
    const double fetched = best_ns_per_call(calls, rounds, [&] {
        const auto out = tka::crypto::sha256(password);
        keep(out.data());
    });
    const double implicit = best_ns_per_call(calls, rounds, [&] {
        std::array<unsigned char, 32> out{};
        implicit_fetch_sha256(password, out.data());
        keep(out.data());
    });
    tka::bench::ResultLine()
        .add("fetched_once_ns", fetched, 0)
        .add("implicit_fetch_ns", implicit, 0)
        .add("speedup", implicit / fetched, 2)
        .print();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "digest_bench: %s\n", e.what());
    return 2;
}
