// Parsing of Sentinel replies (redis_sentinel.hpp): type-checked, no atoi, every refusal a
// sentence that can end up in "Redis sentinel lookup failed: ...".
#include "common/redis_sentinel.hpp"

#include <fmt/format.h>

#include "common/parse_int.hpp"

namespace tka {
namespace {

bool is_text(const RedisValue& v) {
    return v.type == RedisValue::Type::string || v.type == RedisValue::Type::status;
}

}  // namespace

std::variant<SentinelMaster, std::string> parse_master_addr(const RedisValue& reply,
                                                            const std::string& master_name) {
    if (reply.is_nil()) {
        return fmt::format("sentinel does not know master '{}'", master_name);
    }
    if (reply.is_error()) {
        return fmt::format("sentinel answered an error: {}", reply.str);
    }
    if (!reply.is_array()) {
        return std::string("sentinel answered something other than an address");
    }
    if (reply.elements.size() != 2) {
        return fmt::format("sentinel answered {} elements instead of host and port",
                           reply.elements.size());
    }
    const RedisValue& host = reply.elements[0];
    const RedisValue& port = reply.elements[1];
    if (!is_text(host) || host.str.empty()) {
        return std::string("sentinel answered no host for the master");
    }
    for (const char c : host.str) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == ':';
        if (!ok) {
            return std::string("sentinel answered a host that is not a name or an address");
        }
    }
    if (!is_text(port)) {
        return std::string("sentinel answered no port for the master");
    }
    const auto number = parse_int(port.str, 1, 65535);
    if (!number) {
        return std::string("sentinel answered a port that is not a number in 1..65535");
    }
    return SentinelMaster{host.str, static_cast<int>(*number)};
}

std::string parse_role(const RedisValue& reply) {
    if (!reply.is_array() || reply.elements.empty() || !is_text(reply.elements[0])) {
        return {};
    }
    return reply.elements[0].str;
}

}  // namespace tka
