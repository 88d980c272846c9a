// OrgStore: organizations and secret keys (layout in redis_keys.hpp / docs/redis-layout.md).
#include "common/org_store.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/display_name.hpp"
#include "common/errors.hpp"
#include "common/events.hpp"
#include "common/identifiers.hpp"
#include "common/lua_scripts.hpp"
#include "common/redis_keys.hpp"
#include "common/replica_wait.hpp"

namespace tka {
namespace {

std::map<std::string, std::string> to_map(const RedisValue& v) {
    std::map<std::string, std::string> m;
    for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
        m[v.elements[i].str] = v.elements[i + 1].str;
    }
    return m;
}

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

void check_ttl(std::int64_t ttl) {
    if (ttl < kMinTtlSeconds || ttl > kMaxTtlSeconds) {
        throw Denied(Refusal::bad_request, fmt::format("ttl must be between {} and {} seconds",
                                                       kMinTtlSeconds, kMaxTtlSeconds));
    }
}

void check_org_id(const std::string& org_id) {
    if (!ids::is_org_id(org_id)) {
        throw Denied(Refusal::bad_request,
                     "organization id must look like org_ + 12 lowercase "
                     "letters or digits");
    }
}

Organization org_from(const std::string& org_id, const RedisValue& hash) {
    if (hash.elements.empty()) {
        throw Denied(Refusal::unknown_org, "unknown organization " + org_id);
    }
    auto m = to_map(hash);
    Organization org;
    org.org_id = org_id;
    org.name = m["name"];
    org.ttl = to_int(m["ttl"]);
    org.token_auth = m["token_auth"] == "1";
    org.created_at = to_int(m["created_at"]);
    org.user_salt = m["user_salt"];
    return org;
}

struct StoredKey {
    SecretKeyInfo info;
    std::string digest;
};

std::vector<StoredKey> keys_from(const RedisValue& hash) {
    std::vector<StoredKey> out;
    for (const auto& [key_id, json_text] : to_map(hash)) {
        const auto j = nlohmann::json::parse(json_text, nullptr, false);
        if (!j.is_object()) {
            continue;
        }
        StoredKey k;
        k.info.key_id = key_id;
        k.info.created_at = j.value("created_at", std::int64_t{0});
        k.info.legacy = j.value("legacy", false);
        k.info.prefix = j.value("prefix", std::string());
        k.digest = j.value("digest", std::string());
        out.push_back(std::move(k));
    }
    std::sort(out.begin(), out.end(), [](const StoredKey& a, const StoredKey& b) {
        return a.info.created_at != b.info.created_at ? a.info.created_at < b.info.created_at
                                                      : a.info.key_id < b.info.key_id;
    });
    return out;
}

std::string key_prefix(const std::string& secret) {
    return secret.substr(0, kSecretKeyPrefixChars);
}

std::string key_json(const std::string& secret, UnixSeconds now, bool legacy) {
    return nlohmann::json{{"digest", crypto::sha256_hex(secret)},
                          {"prefix", key_prefix(secret)},
                          {"created_at", now},
                          {"legacy", legacy}}
        .dump();
}

}  // namespace

NewOrganization OrgStore::create(const std::string& name, std::int64_t ttl, bool token_auth,
                                 UnixSeconds now) {
    if (auto problem = display_name_problem(name, kMaxOrgNameBytes)) {
        throw Denied(Refusal::bad_request, *problem);
    }
    check_ttl(ttl);
    NewOrganization result;
    Organization& org = result.org;
    org.name = name;
    org.ttl = ttl;
    org.token_auth = token_auth;
    org.created_at = now;
    org.user_salt = crypto::hex(crypto::random_bytes(32));
    result.first_key.key_id = ids::new_key_id();
    result.first_key.secret_key = ids::new_secret_key();
    // A fresh id collides with an existing one only by astronomical chance; HSETNX on the
    // name field makes even that case safe instead of overwriting.
    for (int attempt = 0; attempt < 5; ++attempt) {
        org.org_id = ids::new_org_id();
        const std::string org_key = keys::org(org.org_id);
        if (redis_.command({"HSETNX", org_key, "name", name}).expect_ok("org create").integer ==
            0) {
            continue;
        }
        auto replies = redis_.pipeline({
            {"HSET", org_key, "ttl", std::to_string(ttl), "token_auth", token_auth ? "1" : "0",
             "created_at", std::to_string(now), "user_salt", org.user_salt},
            {"HSET", keys::secret_keys(org.org_id), result.first_key.key_id,
             key_json(result.first_key.secret_key, now, false)},
            {"SADD", keys::org_index(), org.org_id},
        });
        for (const auto& r : replies) {
            r.expect_ok("org create");
        }
        confirm_replicated(redis_);
        return result;
    }
    throw RedisError("could not allocate a unique organization id");
}

Organization OrgStore::get(const std::string& org_id) {
    check_org_id(org_id);
    return org_from(org_id, redis_.command({"HGETALL", keys::org(org_id)}).expect_ok("org get"));
}

std::vector<Organization> OrgStore::list() {
    auto ids_reply = redis_.command({"SMEMBERS", keys::org_index()}).expect_ok("org list");
    std::vector<std::vector<std::string>> cmds;
    std::vector<std::string> org_ids;
    for (const auto& e : ids_reply.elements) {
        if (ids::is_org_id(e.str)) {
            org_ids.push_back(e.str);
        }
    }
    std::sort(org_ids.begin(), org_ids.end());
    for (const auto& id : org_ids) {
        cmds.push_back({"HGETALL", keys::org(id)});
    }
    std::vector<Organization> orgs;
    if (cmds.empty()) {
        return orgs;
    }
    auto replies = redis_.pipeline(cmds);
    for (size_t i = 0; i < replies.size(); ++i) {
        if (!replies[i].is_error() && !replies[i].elements.empty()) {
            orgs.push_back(org_from(org_ids[i], replies[i]));
        }
    }
    return orgs;
}

Organization OrgStore::update(const std::string& org_id, std::optional<std::int64_t> ttl,
                              std::optional<bool> token_auth) {
    check_org_id(org_id);
    if (ttl) {
        check_ttl(*ttl);
    }
    auto reply = scripts::update_org().run(
        redis_, {keys::org(org_id), keys::events()},
        {org_id, ttl ? std::to_string(*ttl) : "", token_auth ? (*token_auth ? "1" : "0") : "",
         std::to_string(kEventStreamMaxLen)});
    if (reply.elements.empty() || reply.elements[0].str != "ok") {
        throw Denied(Refusal::unknown_org, "unknown organization " + org_id);
    }
    confirm_replicated(redis_);
    if (token_auth) {  // either way: replicas answer token_auth_off from memory
        fence_replicas(redis_, observer_);
    }
    return get(org_id);
}

NewSecretKey OrgStore::create_key(const std::string& org_id, UnixSeconds now) {
    NewSecretKey key{ids::new_key_id(), ids::new_secret_key()};
    get(org_id);  // unknown org -> Denied
    if (list_keys(org_id).size() >= kMaxSecretKeysPerOrg) {
        throw Denied(Refusal::conflict, fmt::format("an organization has at most {} secret keys",
                                                    kMaxSecretKeysPerOrg));
    }
    redis_
        .command(
            {"HSET", keys::secret_keys(org_id), key.key_id, key_json(key.secret_key, now, false)})
        .expect_ok("key create");
    confirm_replicated(redis_);
    return key;
}

SecretKeyInfo OrgStore::import_key(const std::string& org_id, const std::string& legacy_key,
                                   UnixSeconds now) {
    if (!ids::is_legacy_secret_key(legacy_key)) {
        throw Denied(Refusal::bad_request,
                     "only legacy cs_ keys can be imported (cs_ + at least 16 characters)");
    }
    get(org_id);
    const std::string digest = crypto::sha256_hex(legacy_key);
    auto existing =
        keys_from(redis_.command({"HGETALL", keys::secret_keys(org_id)}).expect_ok("key import"));
    for (const auto& k : existing) {
        if (crypto::constant_time_equal(k.digest, digest)) {
            throw Denied(Refusal::conflict, "this key is already registered as " + k.info.key_id);
        }
    }
    if (existing.size() >= kMaxSecretKeysPerOrg) {
        throw Denied(Refusal::conflict, fmt::format("an organization has at most {} secret keys",
                                                    kMaxSecretKeysPerOrg));
    }
    SecretKeyInfo info{ids::new_key_id(), now, true, key_prefix(legacy_key)};
    redis_
        .command({"HSET", keys::secret_keys(org_id), info.key_id, key_json(legacy_key, now, true)})
        .expect_ok("key import");
    confirm_replicated(redis_);
    return info;
}

std::vector<SecretKeyInfo> OrgStore::list_keys(const std::string& org_id) {
    check_org_id(org_id);
    std::vector<SecretKeyInfo> out;
    for (auto& k :
         keys_from(redis_.command({"HGETALL", keys::secret_keys(org_id)}).expect_ok("key list"))) {
        out.push_back(std::move(k.info));
    }
    return out;
}

void OrgStore::revoke_key(const std::string& org_id, const std::string& key_id) {
    check_org_id(org_id);
    if (redis_.command({"HDEL", keys::secret_keys(org_id), key_id})
            .expect_ok("key revoke")
            .integer == 0) {
        throw Denied(Refusal::not_found, "unknown key " + key_id + " in " + org_id);
    }
    confirm_replicated(redis_);
}

Organization OrgStore::authenticate(const std::string& org_id, const std::string& secret_key) {
    if (!ids::is_org_id(org_id)) {
        throw Denied(Refusal::unknown_org, "unknown organization or wrong secret key");
    }
    auto replies =
        redis_.pipeline({{"HGETALL", keys::org(org_id)}, {"HGETALL", keys::secret_keys(org_id)}});
    replies[0].expect_ok("org authenticate");
    replies[1].expect_ok("org authenticate");
    if (replies[0].elements.empty()) {
        throw Denied(Refusal::unknown_org, "unknown organization or wrong secret key");
    }
    const std::string digest = crypto::sha256_hex(secret_key);
    bool match = false;
    for (const auto& k : keys_from(replies[1])) {
        // Compare against every key so the time does not depend on which one matched.
        match = crypto::constant_time_equal(k.digest, digest) || match;
    }
    if (!match || !ids::is_secret_key(secret_key)) {
        throw Denied(Refusal::bad_secret_key, "unknown organization or wrong secret key");
    }
    return org_from(org_id, replies[0]);
}

}  // namespace tka
