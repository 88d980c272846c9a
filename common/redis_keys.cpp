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

std::string org_index() {
    return "tka:orgs";
}

std::string token_org(std::string_view token_id) {
    return fmt::format("tka:tokenorg:{}", token_id);
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

}  // namespace tka::keys
