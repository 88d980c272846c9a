// One bounded sweep pass over all organizations (see expiry_sweep.hpp).
#include "common/expiry_sweep.hpp"

#include <algorithm>

#include "common/identifiers.hpp"
#include "common/redis_keys.hpp"
#include "common/token_store.hpp"

namespace tka {

ExpirySweep::PassResult ExpirySweep::pass(RedisConnection& redis, UnixSeconds now,
                                          int max_buckets) {
    PassResult result;
    TokenStore tokens(redis);
    while (result.buckets < max_buckets) {
        if (pending_.empty()) {
            const RedisValue page =
                redis.command({"SSCAN", keys::org_index(), org_cursor_, "COUNT", "100"})
                    .expect_ok("SSCAN orgs");
            if (page.elements.size() != 2) {
                throw RedisError("SSCAN orgs: unexpected reply");
            }
            org_cursor_ = page.elements[0].str;
            for (const RedisValue& org : page.elements[1].elements) {
                pending_.push_back(org.str);
            }
            if (pending_.empty()) {
                if (org_cursor_ == "0") {
                    break;
                }
                continue;
            }
        }
        const std::string org = pending_.front();
        pending_.pop_front();
        if (!ids::is_org_id(org)) {
            continue;
        }
        const int buckets =
            std::min(kSweepBucketsPerCall, max_buckets - static_cast<int>(result.buckets));
        result.deleted += tokens.sweep(org, now, buckets);
        result.buckets += buckets;
    }
    return result;
}

}  // namespace tka
