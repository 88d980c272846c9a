// WAIT after writes (see replica_wait.hpp).
#include "common/replica_wait.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "common/parse_int.hpp"

namespace tka {

int parse_wait_replicas(std::string_view option, std::string_view text) {
    const auto value = parse_int(text, 0, kMaxWaitReplicas);
    if (!value) {
        throw std::invalid_argument(fmt::format(
            "{} must be a whole number of replicas from 0 to {}", option, kMaxWaitReplicas));
    }
    return static_cast<int>(*value);
}

std::chrono::milliseconds parse_wait_ms(std::string_view option, std::string_view text) {
    const auto value = parse_int(text, kMinWaitMs, kMaxWaitMs);
    if (!value) {
        throw std::invalid_argument(
            fmt::format("{} must be a whole number of milliseconds from {} to {}", option,
                        kMinWaitMs, kMaxWaitMs));
    }
    return std::chrono::milliseconds(*value);
}

std::string not_replicated_message(int wanted, std::chrono::milliseconds timeout,
                                   long long acknowledged) {
    return fmt::format("the write was not confirmed by {} {} within {} ms ({} acknowledged)",
                       wanted, wanted == 1 ? "replica" : "replicas", timeout.count(), acknowledged);
}

void confirm_replicated(RedisConnection& redis) {
    const RedisOptions& o = redis.options();
    if (o.wait_replicas <= 0) {
        return;
    }
    // The socket timeout must outlast the WAIT itself.
    const RedisValue reply = redis.command_with_timeout(
        {"WAIT", std::to_string(o.wait_replicas), std::to_string(o.wait_timeout.count())},
        o.wait_timeout + o.command_timeout);
    reply.expect_ok("WAIT");
    if (reply.type != RedisValue::Type::integer) {
        throw RedisError("WAIT: unexpected reply");
    }
    if (reply.integer < o.wait_replicas) {
        throw ReplicaWaitError(
            not_replicated_message(o.wait_replicas, o.wait_timeout, reply.integer));
    }
}

}  // namespace tka
