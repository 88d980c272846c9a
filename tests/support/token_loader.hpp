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
    std::size_t batch = 500;  // tokens per pipelined round trip
    bool events = true;       // append token.created to the stream as the script does
    // The per-user sets and tokenorg (revoke by e-mail, replace, refresh); false writes only
    // what authentication and the replica sync read: record, password lookup, org's set.
    bool user_index = true;
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
