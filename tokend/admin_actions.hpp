// What the operator dashboard can do, one function per action, each calling the same
// stores as tokenctl with the same validation (docs/dashboard.md): names through
// display_name_problem(), TTLs through parse_int() within kMinTtlSeconds..kMaxTtlSeconds,
// e-mail addresses through ids::normalise_email(), identifiers through common/identifiers.
// So a change made here has exactly the effect of the same tokenctl command: switching
// token auth off or revoking a token emits the same event and runs the same replica fence,
// and brokers close the same live connections.
//
// The HTML pages and the JSON API (admin_html.hpp, admin_api.hpp) present these actions;
// they never touch a store themselves. A refusal is an ActionError with the HTTP status,
// an error code and a sentence for a person (never quoting a secret); RedisError and
// ReplicaWaitError pass through (503).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/replica_fence.hpp"
#include "common/replica_registry.hpp"
#include "common/token_store.hpp"

namespace tka::tokend::admin {

class ActionError : public std::runtime_error {
  public:
    ActionError(int status, std::string code, const std::string& sentence)
        : std::runtime_error(sentence), status_(status), code_(std::move(code)) {}
    int status() const { return status_; }
    const std::string& code() const { return code_; }

  private:
    int status_;
    std::string code_;
};

// Validation of what a person typed (400 with a sentence).
std::int64_t checked_ttl(std::string_view text);
std::string checked_org_name(std::string_view name);
std::string checked_email(std::string_view email);
bool checked_on_off(std::string_view text);

// The stores of one request, over one Redis connection (an admin worker's).
class Actions {
  public:
    Actions(RedisConnection& redis, FenceObserver observer);

    std::vector<Organization> list_orgs();
    NewOrganization create_org(std::string_view name, std::int64_t ttl, bool token_auth,
                               UnixSeconds now);
    Organization get_org(std::string_view org_id);  // 404 for a malformed or unknown id
    Organization update_org(std::string_view org_id, std::optional<std::int64_t> ttl,
                            std::optional<bool> token_auth);

    std::vector<SecretKeyInfo> list_keys(std::string_view org_id);
    NewSecretKey create_key(std::string_view org_id, UnixSeconds now);
    SecretKeyInfo import_key(std::string_view org_id, std::string_view legacy_key, UnixSeconds now);
    void revoke_key(std::string_view org_id, std::string_view key_id);

    // Records still in Redis, of the org or of one e-mail (normalised by the caller).
    std::vector<TokenRecord> list_tokens(const Organization& org,
                                         const std::optional<std::string>& email, UnixSeconds now);
    // The ids revoked (empty when the token was no longer live).
    std::vector<std::string> revoke_token(std::string_view org_id, std::string_view token_id,
                                          UnixSeconds now);
    std::vector<std::string> revoke_user(std::string_view org_id, std::string_view email,
                                         UnixSeconds now);

    ReplicaRegistry brokers();

  private:
    RedisConnection& redis_;
    OrgStore orgs_;
    TokenStore tokens_;
};

}  // namespace tka::tokend::admin
