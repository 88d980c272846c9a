// trivial_http_server: the ceiling for tokend's create rate on this machine. A cpp-httplib
// server with tokend's threading and keep-alive settings that answers
// POST /v2/tokens/create by parsing the JSON body and returning a token-shaped JSON body of
// the same size as tokend's, with no Redis, no crypto and no logging.
//
//   trivial_http_server --listen PORT [--threads 32] [--response-bytes N]
//                       [--sample-email bench-000000@example.com] [--nodelay 1]
//                       [--max-seconds 600]
//
// --response-bytes pads the "provider" field so that the answer for an e-mail as long as
// --sample-email is exactly N bytes (bench.sh passes the size of a real tokend answer for
// the e-mails wrk_create.lua sends). --nodelay 0 leaves Nagle's algorithm on, as
// cpp-httplib does by default (header and body go out in two writes, so a keep-alive client
// waits for its delayed ACK, ~40 ms). Listens on 127.0.0.1 only.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"

namespace {

std::string token_body(const std::string& email, const std::string& provider, std::uint64_t n) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "%020llu", static_cast<unsigned long long>(n));
    const std::string password = "tkn_" + std::string(23, 'A') + suffix;  // 47 chars
    nlohmann::ordered_json j;
    j["access_token"] = password;
    j["token_type"] = "Bearer";
    j["expires_in"] = 3600;
    j["mqtt_credentials"] = {{"username", "0123456789abcdef01234567@org_k7xm4pqr2n5t"},
                             {"password", password}};
    j["token_id"] = "0b6f6c3e-3a34-4d7c-9a55-2f1c4b7e9d10";
    j["user_email"] = email;
    j["provider"] = provider;
    j["expires_at"] = "2026-03-27T14:00:00Z";
    j["refresh_recommended_at"] = "2026-03-27T13:54:00Z";
    return j.dump();
}

}  // namespace

int main(int argc, char** argv) try {
    using namespace tka::bench;
    const Args args(argc, argv);
    const int port = static_cast<int>(std::stol(args.require("listen")));
    const auto threads = static_cast<std::size_t>(args.num("threads", 32));
    const long want_bytes = args.num("response-bytes", 0);
    const auto max_seconds = args.num("max-seconds", 600);

    // Pad the provider so that a typical answer has the requested size.
    std::string provider = "mosquitto-token-auth";
    const std::string sample_email = args.str("sample-email", "bench-000000@example.com");
    const long natural = static_cast<long>(token_body(sample_email, provider, 0).size());
    if (want_bytes > natural) {
        provider += std::string(static_cast<std::size_t>(want_bytes - natural), 'x');
    }

    std::atomic<std::uint64_t> served{0};
    httplib::Server server;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_keep_alive_max_count(100);
    server.set_keep_alive_timeout(5);
    server.set_tcp_nodelay(args.num("nodelay", 1) != 0);
    server.Post("/v2/tokens/create", [&](const httplib::Request& req, httplib::Response& res) {
        const auto body = nlohmann::json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object() || !body.contains("user_email") ||
            !body["user_email"].is_string()) {
            res.status = 400;
            res.set_content(R"({"error":"invalid_request"})", "application/json");
            return;
        }
        res.set_content(
            token_body(body["user_email"].get<std::string>(), provider, served.fetch_add(1)),
            "application/json");
    });
    std::thread([&server, max_seconds] {
        std::this_thread::sleep_for(std::chrono::seconds(max_seconds));
        server.stop();
    }).detach();
    if (!server.listen("127.0.0.1", port)) {
        throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port));
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "trivial_http_server: %s\n", e.what());
    return 2;
}
