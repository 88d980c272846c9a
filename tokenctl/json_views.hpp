// The JSON shapes of tokenctl's --json output (documented in docs/tokenctl.md). Secrets
// never appear here except in the two creation results, which exist to show them once;
// passwords and the org's user salt never appear at all.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "common/org_store.hpp"
#include "common/token_store.hpp"

namespace tka::tokenctl {

// {"organization_id", "name", "ttl", "token_auth", "created_at"}
nlohmann::json org_json(const Organization& org);
// {"key_id", "legacy", "created_at"}
nlohmann::json key_json(const SecretKeyInfo& key);
// {"token_id", "organization_id", "user_id", "username", "user_email", "status",
//  "created_at", "expires_at", "refreshed_at" (null when never refreshed), "ttl"}
nlohmann::json token_json(const TokenRecord& token);

// Pretty-printed, invalid UTF-8 replaced rather than thrown on, newline-terminated.
void print_json(std::ostream& out, const nlohmann::json& value);

}  // namespace tka::tokenctl
