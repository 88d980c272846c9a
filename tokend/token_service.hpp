// What tokend's endpoints ask of the token store, as an interface: mint, refresh, revoke.
// The API maps the answers (and tka::Denied / tka::RedisError) to HTTP; RedisTokenService
// answers them from Redis through tka::OrgStore and tka::TokenStore. The fuzzer of the
// HTTP path puts an in-memory implementation here, so every byte a client sends runs
// through the real parser and handlers without a Redis.
#pragma once

#include <string>
#include <vector>

#include "common/redis.hpp"
#include "common/replica_fence.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "tokend/request_parsing.hpp"
#include "tokend/user_salt_cache.hpp"

namespace tka::tokend {

class TokenService {
  public:
    virtual ~TokenService() = default;
    // Each throws tka::Denied for a refusal and tka::RedisError when the store is unreachable.
    virtual IssuedToken create(const CreateRequest& request, UnixSeconds now) = 0;
    virtual IssuedToken refresh(const RefreshRequest& request, UnixSeconds now) = 0;
    virtual std::vector<std::string> revoke(const RevokeRequest& request, UnixSeconds now) = 0;
};

// The service over one Redis connection (a worker's), for the duration of one request.
class RedisTokenService final : public TokenService {
  public:
    RedisTokenService(RedisConnection& redis, UserSaltCache& salts, FenceObserver observer)
        : redis_(redis), salts_(salts), observer_(std::move(observer)) {}

    IssuedToken create(const CreateRequest& request, UnixSeconds now) override;
    IssuedToken refresh(const RefreshRequest& request, UnixSeconds now) override;
    std::vector<std::string> revoke(const RevokeRequest& request, UnixSeconds now) override;

  private:
    RedisConnection& redis_;
    UserSaltCache& salts_;
    FenceObserver observer_;
};

}  // namespace tka::tokend
