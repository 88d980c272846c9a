// Key names of docs/redis-layout.md. Nothing else in the project spells a key.
#include "common/redis_keys.hpp"

#include <fmt/format.h>

namespace tka::keys {

std::string org_prefix(std::string_view org_id) {
    return fmt::format("tka:{{{}}}:", org_id);
}

std::string org(std::string_view org_id) {
    return org_prefix(org_id) + "org";
}

std::string secret_keys(std::string_view org_id) {
    return org_prefix(org_id) + "keys";
}

std::string user_bucket(std::string_view org_id, unsigned generation, std::uint32_t index) {
    return fmt::format("{}{}{}:{:x}", org_prefix(org_id), kUserBucketInfix, generation, index);
}

std::string password_bucket(std::string_view org_id, unsigned generation, std::uint32_t index) {
    return fmt::format("{}{}{}:{:x}", org_prefix(org_id), kPasswordBucketInfix, generation, index);
}

std::string org_index() {
    return "tka:orgs";
}

std::string token_index(std::string_view token_id_bytes) {
    std::string key(kTokenIndexPrefix);
    if (token_id_bytes.size() >= 2) {
        key.append(fmt::format("{:02x}{:02x}", static_cast<unsigned char>(token_id_bytes[0]),
                               static_cast<unsigned char>(token_id_bytes[1])));
    }
    return key;
}

std::string layout_version() {
    return "tka:layout";
}

std::string events() {
    return "tka:events";
}

std::string replicas() {
    return "tka:replicas";
}

std::string replicas_applied() {
    return "tka:replicas:applied";
}

std::string admins() {
    return "tka:admins";
}

std::string admin_session(std::string_view session_digest_hex) {
    return std::string("tka:admin:session:").append(session_digest_hex);
}

std::string admin_sessions_of(std::string_view admin_name) {
    return std::string("tka:admin:sessions:").append(admin_name);
}

namespace legacy {

std::string token(std::string_view org_id, std::string_view token_id) {
    return fmt::format("{}token:{}", org_prefix(org_id), token_id);
}

std::string password(std::string_view org_id, std::string_view password_digest_hex) {
    return fmt::format("{}pw:{}", org_prefix(org_id), password_digest_hex);
}

std::string user_tokens(std::string_view org_id, std::string_view user_id) {
    return fmt::format("{}user:{}", org_prefix(org_id), user_id);
}

std::string user_live_tokens(std::string_view org_id, std::string_view user_id) {
    return fmt::format("{}live:{}", org_prefix(org_id), user_id);
}

std::string org_tokens(std::string_view org_id) {
    return org_prefix(org_id) + "tokens";
}

std::string token_org(std::string_view token_id) {
    return fmt::format("tka:tokenorg:{}", token_id);
}

}  // namespace legacy

}  // namespace tka::keys
