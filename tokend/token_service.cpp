// RedisTokenService: the endpoints' store calls over one Redis connection (see
// token_service.hpp).
#include "tokend/token_service.hpp"

#include <optional>

#include "common/errors.hpp"
#include "common/org_store.hpp"

namespace tka::tokend {

IssuedToken RedisTokenService::create(const CreateRequest& req, UnixSeconds now) {
    // One round trip: the script checks the secret key and token auth itself; only the
    // org's user_salt comes from a cache (user_salt_cache.hpp). A stale salt is refused by
    // the script: read it again and retry once.
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto salt = salts_.get(redis_, req.organization_id);
        if (!salt) {
            throw Denied(Refusal::unknown_org, "unknown organization or wrong secret key");
        }
        auto token = TokenStore(redis_, observer_)
                         .create_with_key(req.organization_id, *salt, req.secret_key,
                                          req.user_email, req.replace_existing, now);
        if (token) {
            return *token;
        }
        salts_.forget(req.organization_id);
    }
    throw RedisError("the organization's user_salt changed while minting");
}

IssuedToken RedisTokenService::refresh(const RefreshRequest& req, UnixSeconds now) {
    return TokenStore(redis_, observer_).refresh(req.token_id, req.current_token_password, now);
}

std::vector<std::string> RedisTokenService::revoke(const RevokeRequest& req, UnixSeconds now) {
    Organization org = OrgStore(redis_).authenticate(req.organization_id, req.secret_key);
    TokenStore tokens(redis_, observer_);
    return req.token_id ? tokens.revoke(org.org_id, *req.token_id, now)
                        : tokens.revoke_email(org, *req.user_email, now);
}

}  // namespace tka::tokend
