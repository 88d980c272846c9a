// JSON shapes of organizations, keys and tokens (see json_views.hpp).
#include "common/json_views.hpp"

#include "common/identifiers.hpp"
#include "common/time_format.hpp"

namespace tka {

nlohmann::json org_json(const Organization& org) {
    return {
        {"organization_id", org.org_id},
        {"name", org.name},
        {"ttl", org.ttl},
        {"token_auth", org.token_auth},
        {"created_at", format_rfc3339(org.created_at)},
    };
}

nlohmann::json key_json(const SecretKeyInfo& key) {
    return {
        {"key_id", key.key_id},
        {"prefix", key.prefix},
        {"legacy", key.legacy},
        {"created_at", format_rfc3339(key.created_at)},
    };
}

nlohmann::json token_json(const TokenRecord& token) {
    nlohmann::json refreshed = nullptr;
    if (token.refreshed_at != 0) {
        refreshed = format_rfc3339(token.refreshed_at);
    }
    return {
        {"token_id", token.token_id},
        {"organization_id", token.org_id},
        {"user_id", token.user_id},
        {"username", ids::format_username(token.user_id, token.org_id)},
        {"user_email", token.email},
        {"status", token.status},
        {"created_at", format_rfc3339(token.created_at)},
        {"expires_at", format_rfc3339(token.expires_at)},
        {"refreshed_at", refreshed},
        {"ttl", token.ttl},
    };
}

void print_json(std::ostream& out, const nlohmann::json& value) {
    out << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace tka
