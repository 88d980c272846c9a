// Bulk token writer for tests and benchmarks that need a store of hundreds of thousands or
// millions of live tokens. Minting through TokenStore is one create_token script call per
// token; this writes exactly the keys and values that script writes for a new user with
// replace_existing false (docs/redis-layout.md: the token record, its password lookup, the
// user's `user:` and `live:` sets, the org's `tokens` sorted set, `tokenorg`, and the
// `token.created` event on the capped stream), with the same expiries, but pipelined:
// hundreds of tokens per round trip. Ids, passwords and user ids come from the same
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
};

// Writes `count` tokens of `org` (which must exist with its user_salt and ttl) created at
// `now`; `sink`, when set, receives each issued token (password included), in order.
void bulk_create_tokens(RedisConnection& redis, const Organization& org, std::size_t count,
                        UnixSeconds now, const BulkLoadOptions& options = {},
                        const std::function<void(const IssuedToken&)>& sink = {});

}  // namespace tka::test
