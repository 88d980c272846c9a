// The per-process cache of organizations' user_salt (see user_salt_cache.hpp).
#include "tokend/user_salt_cache.hpp"

#include "common/identifiers.hpp"
#include "common/redis_keys.hpp"

namespace tka::tokend {

std::optional<std::string> UserSaltCache::get(RedisConnection& redis, const std::string& org_id) {
    if (!ids::is_org_id(org_id)) {
        return std::nullopt;
    }
    {
        std::lock_guard lock(mutex_);
        if (auto it = salts_.find(org_id); it != salts_.end()) {
            return it->second;
        }
    }
    RedisValue reply =
        redis.command({"HGET", keys::org(org_id), "user_salt"}).expect_ok("org user_salt");
    if (reply.type != RedisValue::Type::string || reply.str.empty()) {
        return std::nullopt;
    }
    std::lock_guard lock(mutex_);
    if (salts_.size() >= max_entries_) {
        salts_.clear();
    }
    salts_.insert_or_assign(org_id, reply.str);
    return reply.str;
}

void UserSaltCache::forget(const std::string& org_id) {
    std::lock_guard lock(mutex_);
    salts_.erase(org_id);
}

std::size_t UserSaltCache::size() const {
    std::lock_guard lock(mutex_);
    return salts_.size();
}

}  // namespace tka::tokend
