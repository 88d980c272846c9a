// tokend's entry point: parse flags/env, start the server, stop it cleanly on SIGTERM or
// SIGINT. Signals are blocked in every thread and received by one dedicated thread with
// sigtimedwait, so no work ever runs inside a signal handler.
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <exception>
#include <optional>
#include <thread>

#include "common/layout_migration.hpp"
#include "common/redis.hpp"
#include "tokend/config.hpp"
#include "tokend/expiry_sweeper.hpp"
#include "tokend/request_log.hpp"
#include "tokend/server.hpp"

namespace {

std::string event_line(nlohmann::ordered_json j) {
    nlohmann::ordered_json line;
    line["ts"] = tka::tokend::format_log_time(std::chrono::system_clock::now());
    line.update(j);
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace tka::tokend;
    ConfigResult parsed = parse_config(argc, argv);
    if (!parsed.config) {
        if (parsed.exit_code == 0) {
            std::fputs(parsed.message.c_str(), stdout);
        } else {
            std::fprintf(stderr, "tokend: %s\n", parsed.message.c_str());
        }
        return parsed.exit_code;
    }
    const Config& config = *parsed.config;

    // Block the stop signals before any thread exists, so all threads inherit the mask
    // and only the signal thread below ever receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    // A client closing its socket mid-response must not kill the daemon.
    signal(SIGPIPE, SIG_IGN);
    // Every open connection is a file descriptor: take all the system allows
    // (--max-connections bounds the use; the systemd unit sets LimitNOFILE).
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    try {
        Server server(config);
        int port = server.bind();
        server.log().write_line(event_line({
            {"event", "start"},
            {"listen", fmt::format("{}:{}", config.listen_host, port)},
            {"tls", config.tls()},
            {"redis", config.redis.redacted()},
            {"provider", config.provider},
            {"io_threads", config.io_threads},
            {"redis_workers", config.threads},
            {"queue_max", config.queue_max},
            {"max_connections", config.limits.max_connections},
            {"rate_limit", config.rate_limit},
        }));
        if (config.admin()) {
            // Where an operator points a browser (docs/dashboard.md).
            const std::string host = config.admin_listen_host.find(':') == std::string::npos
                                         ? config.admin_listen_host
                                         : fmt::format("[{}]", config.admin_listen_host);
            server.log().write_line(event_line({
                {"event", "admin_listen"},
                {"url", fmt::format("{}://{}:{}/", config.tls() ? "https" : "http", host,
                                    server.admin_port())},
                {"admin_workers", 2},
                {"session_idle_s", config.admin_session_idle_seconds},
                {"session_max_s", config.admin_session_max_seconds},
            }));
        }

        // Tokens in the previous Redis layout are invisible to this version: say so loudly.
        try {
            tka::RedisConnection redis(redis_options(config));
            if (tka::legacy_layout_present(redis)) {
                server.log().write_line(
                    event_line({{"event", "error"}, {"message", tka::kLegacyLayoutMessage}}));
            }
        } catch (const std::exception&) {
            // Redis not reachable yet: the workers report that on their own.
        }
        // Deletes token records past their retention in every organization.
        std::optional<ExpirySweeper> sweeper;
        if (config.sweep_interval_ms > 0) {
            sweeper.emplace(
                redis_options(config),
                [&server](const std::string& error) {
                    server.log().write_line(
                        event_line({{"event", "sweep_failed"}, {"error", error}}));
                },
                std::chrono::milliseconds(config.sweep_interval_ms));
        }

        std::atomic<bool> finished{false};
        std::thread signal_thread([&] {
            timespec tick{0, 200 * 1000 * 1000};
            while (!finished) {
                int sig = sigtimedwait(&stop_signals, nullptr, &tick);
                if (sig == SIGTERM || sig == SIGINT) {
                    server.log().write_line(
                        event_line({{"event", "stopping"},
                                    {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}}));
                    server.stop();
                    return;
                }
            }
        });
        bool ok = server.listen();
        finished = true;
        signal_thread.join();
        server.log().write_line(event_line({{"event", "stopped"}, {"clean", ok}}));
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tokend: %s\n", e.what());
        return 1;
    }
}
