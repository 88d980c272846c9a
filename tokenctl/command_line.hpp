// tokenctl's command line (DESIGN.md, "Command lines"), parsed with CLI11 into a validated
// Request. Parsing never touches Redis; it may read standard input for "key import ORG -".
#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tokenctl/request.hpp"

namespace tka::tokenctl {

inline constexpr const char* kDefaultRedisUrl = "redis://127.0.0.1:6379";
inline constexpr const char* kRedisUrlEnv = "TOKENCTL_REDIS_URL";
inline constexpr const char* kRedisWaitReplicasEnv = "TOKENCTL_REDIS_WAIT_REPLICAS";
inline constexpr const char* kRedisWaitMsEnv = "TOKENCTL_REDIS_WAIT_MS";

// `args` excludes the program name. Returns nullopt after printing help to `out` (--help);
// throws UsageError for anything malformed.
std::optional<Request> parse_command_line(const std::vector<std::string>& args, std::istream& in,
                                          std::ostream& out);

}  // namespace tka::tokenctl
