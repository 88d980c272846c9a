// The previous layout's keys for one token (see legacy_tokens.hpp).
#include "tests/support/legacy_tokens.hpp"

#include <algorithm>

#include "common/crypto.hpp"
#include "common/identifiers.hpp"
#include "common/redis_keys.hpp"

namespace tka::test {

IssuedToken write_legacy_token(RedisConnection& c, const Organization& org,
                               const std::string& email, const std::string& status,
                               UnixSeconds created, UnixSeconds expires, UnixSeconds refreshed,
                               const std::optional<IssuedToken>& same) {
    IssuedToken t;
    if (same) {
        t = *same;
    } else {
        t.token_id = ids::new_token_id();
        t.password = ids::new_token_password();
        t.user_id = ids::derive_user_id(org.user_salt, email);
    }
    t.org_id = org.org_id;
    t.email = email;
    t.expires_at = expires;
    t.ttl = expires - std::max(created, refreshed);
    const std::string pw = crypto::sha256_hex(t.password);
    const std::string purge = std::to_string(expires + kExpiredRetentionSeconds);
    const std::string key = keys::legacy::token(org.org_id, t.token_id);
    c.command({"HSET", key, "user_id", t.user_id, "email", email, "pw", pw, "status", status,
               "created_at", std::to_string(created), "expires_at", std::to_string(expires), "ttl",
               std::to_string(t.ttl), "refreshed_at", std::to_string(refreshed)})
        .expect_ok("HSET");
    c.command({"EXPIREAT", key, purge}).expect_ok("EXPIREAT");
    if (status == "active") {
        c.command({"SET", keys::legacy::password(org.org_id, pw), t.token_id, "EXAT", purge})
            .expect_ok("SET");
    }
    c.command({"SADD", keys::legacy::user_tokens(org.org_id, t.user_id), t.token_id})
        .expect_ok("SADD");
    c.command({"SADD", keys::legacy::user_live_tokens(org.org_id, t.user_id), t.token_id})
        .expect_ok("SADD");
    c.command({"ZADD", keys::legacy::org_tokens(org.org_id), std::to_string(expires), t.token_id})
        .expect_ok("ZADD");
    c.command({"SET", keys::legacy::token_org(t.token_id), org.org_id, "EXAT", purge})
        .expect_ok("SET");
    return t;
}

}  // namespace tka::test
