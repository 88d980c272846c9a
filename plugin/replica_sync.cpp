// Full synchronisation of the token replica (see replica_sync.hpp).
#include "plugin/replica_sync.hpp"

#include <charconv>
#include <vector>

#include "common/redis_keys.hpp"

namespace tka::plugin {

namespace {

// Token records fetched per pipelined round trip.
constexpr std::size_t kRecordBatch = 256;

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() ? v : 0;
}

std::string last_stream_id(RedisConnection& redis) {
    const RedisValue top =
        redis.command({"XREVRANGE", keys::events(), "+", "-", "COUNT", "1"}).expect_ok("XREVRANGE");
    if (top.is_array() && !top.elements.empty() && top.elements[0].is_array() &&
        !top.elements[0].elements.empty()) {
        return top.elements[0].elements[0].str;
    }
    return "0-0";
}

void sync_tokens(RedisConnection& redis, TokenReplica& replica, const std::string& org_id,
                 const std::vector<std::string>& token_ids, UnixSeconds now,
                 ReplicaSyncResult& result) {
    for (std::size_t start = 0; start < token_ids.size(); start += kRecordBatch) {
        const std::size_t end = std::min(token_ids.size(), start + kRecordBatch);
        std::vector<std::vector<std::string>> commands;
        commands.reserve(end - start);
        for (std::size_t i = start; i < end; ++i) {
            commands.push_back({"HMGET", keys::token(org_id, token_ids[i]), "pw", "status",
                                "user_id", "expires_at"});
        }
        const std::vector<RedisValue> replies = redis.pipeline(commands);
        for (std::size_t i = 0; i < replies.size(); ++i) {
            const RedisValue& r = replies[i];
            r.expect_ok("HMGET token");
            if (!r.is_array() || r.elements.size() < 4 || r.elements[1].str != "active") {
                continue;
            }
            if (replica.insert(org_id, r.elements[2].str, token_ids[start + i], r.elements[0].str,
                               to_int(r.elements[3].str), now)) {
                ++result.tokens;
            }
        }
    }
}

}  // namespace

ReplicaSyncResult sync_replica(RedisConnection& redis, TokenReplica& replica, UnixSeconds now) {
    ReplicaSyncResult result;
    result.stream_id = last_stream_id(redis);
    replica.clear();
    const RedisValue orgs = redis.command({"SMEMBERS", keys::org_index()}).expect_ok("SMEMBERS");
    for (const RedisValue& org : orgs.elements) {
        const std::string& org_id = org.str;
        // Live tokens only: score (= expires_at) strictly after now. Built with append, not
        // operator+, which trips a GCC 12 -Wrestrict false positive at -O3.
        std::string after_now = "(";
        after_now.append(std::to_string(now));
        const std::vector<RedisValue> replies =
            redis.pipeline({{"HGET", keys::org(org_id), "token_auth"},
                            {"ZRANGEBYSCORE", keys::org_tokens(org_id), after_now, "+inf"}});
        replies[0].expect_ok("HGET org");
        replies[1].expect_ok("ZRANGEBYSCORE");
        if (replies[0].is_nil()) {
            continue;  // listed but gone
        }
        ++result.orgs;
        replica.set_org(org_id, replies[0].str == "1");
        std::vector<std::string> token_ids;
        token_ids.reserve(replies[1].elements.size());
        for (const RedisValue& id : replies[1].elements) {
            token_ids.push_back(id.str);
        }
        sync_tokens(redis, replica, org_id, token_ids, now, result);
    }
    return result;
}

}  // namespace tka::plugin
