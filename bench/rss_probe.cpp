// rss_probe: the broker's resident memory per held connection. Reads the broker's VmRSS,
// opens N connections (one per credential, or anonymous), waits for the broker to settle,
// reads VmRSS again, and reports the difference per connection. The caller raises
// `ulimit -n` for itself and the broker.
//
//   rss_probe --port P --broker-pid PID [--creds FILE] [--count N] [--settle-s 1]
//
// Prints one line: connected= refused= errors= rss_before_kb= rss_after_kb=
// per_conn_bytes= connect_s=.
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench/bench_util.hpp"
#include "bench/mass_connect.hpp"

int main(int argc, char** argv) try {
    using namespace tka::bench;
    const Args args(argc, argv);
    const int port = static_cast<int>(std::stol(args.require("port")));
    const long pid = std::stol(args.require("broker-pid"));
    const double settle = args.real("settle-s", 1);
    std::vector<Credential> creds;
    if (args.has("creds")) {
        creds = read_credentials(args.require("creds"));
    }
    std::size_t count =
        static_cast<std::size_t>(args.num("count", static_cast<long>(creds.size())));
    if (!creds.empty() && count > creds.size()) {
        count = creds.size();
    }

    const long before = process_rss_kb(pid);
    auto opened = mass_connect(port, creds, count, "rss-" + std::to_string(getpid()) + "-");
    std::this_thread::sleep_for(std::chrono::duration<double>(settle));
    const long after = process_rss_kb(pid);
    const std::size_t n = opened.held.size();
    ResultLine()
        .add("connected", static_cast<std::uint64_t>(n))
        .add("refused", opened.refused)
        .add("errors", opened.errors)
        .add("rss_before_kb", static_cast<std::uint64_t>(before))
        .add("rss_after_kb", static_cast<std::uint64_t>(after))
        .add("per_conn_bytes",
             n > 0 ? static_cast<double>(after - before) * 1024.0 / static_cast<double>(n) : 0, 0)
        .add("connect_s", opened.seconds, 2)
        .print();
    release_all(opened.held);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "rss_probe: %s\n", e.what());
    return 2;
}
