// Helpers shared by tokenctl's tests: run the built tokenctl against one RedisServer,
// parse its JSON, and check the "exactly one line on stderr" error contract.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace tka::test {

inline const std::string kTokenctl = TKA_BINARY_DIR "/tokenctl/tokenctl";

// tokenctl --redis-url <redis> args...
inline RunResult tokenctl(const RedisServer& redis, std::vector<std::string> args,
                          const std::string& stdin_text = "") {
    args.insert(args.begin(), {kTokenctl, "--redis-url", redis.url()});
    return run(args, stdin_text);
}

// Runs a command that must succeed with --json output and returns the parsed JSON.
inline nlohmann::json tokenctl_json(const RedisServer& redis, std::vector<std::string> args) {
    args.push_back("--json");
    auto result = tokenctl(redis, args);
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    REQUIRE(result.exit_code == 0);
    REQUIRE(result.err.empty());
    return nlohmann::json::parse(result.out);
}

struct CreatedOrg {
    std::string org_id;
    std::string secret_key;
};

inline CreatedOrg create_org(const RedisServer& redis, const std::string& name,
                             std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"org", "create", "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    auto json = tokenctl_json(redis, args);
    return {json.at("organization_id").get<std::string>(),
            json.at("secret_key").get<std::string>()};
}

// The error contract: non-zero exit, nothing on stdout, exactly one "tokenctl: ..." line.
inline void require_one_line_error(const RunResult& result) {
    INFO("exit: " << result.exit_code << "\nstdout: " << result.out << "\nstderr: " << result.err);
    REQUIRE(result.exit_code != 0);
    REQUIRE(result.exit_code < 128);  // not a crash or a sanitizer abort by signal
    REQUIRE(result.out.empty());
    REQUIRE(result.err.rfind("tokenctl: ", 0) == 0);
    REQUIRE(result.err.back() == '\n');
    REQUIRE(std::count(result.err.begin(), result.err.end(), '\n') == 1);
}

}  // namespace tka::test
