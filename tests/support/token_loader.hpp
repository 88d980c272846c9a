// Bulk token writer for tests and benchmarks that need a store of hundreds of thousands or
// millions of live tokens. It runs the create_token script itself (replace_existing false,
// no secret key check: common/token_store.hpp create_token_call), so the store holds exactly
// what tokend writes, but pipelined: hundreds of scripts per round trip instead of one
// round trip and one replica fence per token. Ids, passwords and user ids come from the same
// generators tokend uses (common/identifiers.hpp), so the plugin cannot tell the difference.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"

namespace tka::test {

struct BulkLoadOptions {
    std::size_t batch = 500;         // tokens per pipelined round trip
    bool events = true;              // append token.created to the stream as the script does
    std::string email_tag = "bulk";  // e-mails: u<i>-<tag>@bulk.example.com
    // Connections writing at once: more than one overlaps building a batch with Redis
    // executing another.
    std::size_t connections = 1;
};

// Writes `count` tokens of `org` (which must exist with its user_salt and ttl) created at
// `now`; `sink`, when set, receives each issued token (password included) with its index
// in 0..count-1, one call at a time (in index order with one connection).
void bulk_create_tokens(RedisConnection& redis, const Organization& org, std::size_t count,
                        UnixSeconds now, const BulkLoadOptions& options = {},
                        const std::function<void(std::size_t, const IssuedToken&)>& sink = {});

}  // namespace tka::test
