// Reading Redis Sentinel's answers without trusting them. A sentinel is a separate server
// that can be misconfigured, mid-failover, another product speaking RESP, or plain wrong;
// RedisConnection (redis.hpp) asks each configured sentinel in turn and moves on to the
// next one whenever an answer below does not hold up, remembering why for its error.
//  - `SENTINEL get-master-addr-by-name <name>` must be an array of exactly two bulk
//    strings, a host and a decimal port in 1..65535. A nil reply means the sentinel does
//    not know the name; an error reply, other types or arities are refused.
//  - `ROLE` on the address a sentinel named must say "master": right after a failover a
//    sentinel can still name the old primary, now a replica, and writes there would fail.
#pragma once

#include <string>
#include <variant>

#include "common/redis.hpp"

namespace tka {

struct SentinelMaster {
    std::string host;
    int port = 0;
};

// The master's address, or why the reply is unusable ("sentinel does not know master
// 'mymaster'", "the port is not a number in 1..65535", ...). Never quotes reply bytes
// beyond the error text of an error reply.
std::variant<SentinelMaster, std::string> parse_master_addr(const RedisValue& reply,
                                                            const std::string& master_name);

// The role a ROLE reply reports ("master", "slave", "sentinel"), or "" when the reply is
// not a ROLE answer (not an array, first element not a string).
std::string parse_role(const RedisValue& reply);

}  // namespace tka
