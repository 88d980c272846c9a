// Organizations and their secret keys in Redis: what tokenctl administers and what tokend
// checks before minting. Secret keys are stored only as SHA-256 digests and checked with a
// constant-time comparison against every key of the organization.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/redis.hpp"
#include "common/replica_fence.hpp"
#include "common/time_format.hpp"

namespace tka {

inline constexpr std::int64_t kDefaultTtlSeconds = 3600;
inline constexpr std::int64_t kMinTtlSeconds = 1;
inline constexpr std::int64_t kMaxTtlSeconds = 30LL * 24 * 3600;
inline constexpr std::size_t kMaxSecretKeysPerOrg = 100;
// How much of a secret key is kept in clear and shown in listings: "sk_" or "cs_" and four
// more characters, enough for a person to recognise a key, far too little to use it.
inline constexpr std::size_t kSecretKeyPrefixChars = 7;

struct Organization {
    std::string org_id;
    std::string name;
    std::int64_t ttl = kDefaultTtlSeconds;
    bool token_auth = false;
    UnixSeconds created_at = 0;
    std::string user_salt;  // secret input of ids::derive_user_id; never shown
};

struct SecretKeyInfo {
    std::string key_id;
    UnixSeconds created_at = 0;
    bool legacy = false;  // imported cs_ key
    std::string prefix;   // the key's first kSecretKeyPrefixChars characters ("sk_AbC1");
                          // "" for keys stored before prefixes were kept
};

struct NewSecretKey {
    std::string key_id;
    std::string secret_key;  // shown once, never stored in clear
};

struct NewOrganization {
    Organization org;
    NewSecretKey first_key;
};

class OrgStore {
  public:
    // `observer`, when set, is told about every replica fence this store runs.
    explicit OrgStore(RedisConnection& redis, FenceObserver observer = {})
        : redis_(redis), observer_(std::move(observer)) {}

    // Throws Denied(bad_request) for a name that display_name_problem() refuses (at most
    // kMaxOrgNameBytes) or a TTL out of range.
    NewOrganization create(const std::string& name, std::int64_t ttl, bool token_auth,
                           UnixSeconds now);
    // Throws Denied(unknown_org).
    Organization get(const std::string& org_id);
    std::vector<Organization> list();
    // Changes TTL and/or token auth; switching token auth emits an org.updated event so
    // brokers close live token connections. Switching it then waits for the brokers'
    // token replicas (common/replica_fence.hpp). Throws Denied(unknown_org / bad_request).
    Organization update(const std::string& org_id, std::optional<std::int64_t> ttl,
                        std::optional<bool> token_auth);

    NewSecretKey create_key(const std::string& org_id, UnixSeconds now);
    // Imports a legacy cs_ key; throws Denied(bad_request) if not a cs_ key,
    // Denied(conflict) if already present.
    SecretKeyInfo import_key(const std::string& org_id, const std::string& legacy_key,
                             UnixSeconds now);
    std::vector<SecretKeyInfo> list_keys(const std::string& org_id);
    // Throws Denied(not_found) for an unknown key id.
    void revoke_key(const std::string& org_id, const std::string& key_id);

    // One round trip: the organization if `secret_key` is one of its keys.
    // Throws Denied(unknown_org) or Denied(bad_secret_key) -- both 401 to API callers.
    Organization authenticate(const std::string& org_id, const std::string& secret_key);

  private:
    RedisConnection& redis_;
    FenceObserver observer_;
};

}  // namespace tka
