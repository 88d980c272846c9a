// The JSON shapes of organizations, secret keys and tokens: tokenctl's --json output
// (docs/tokenctl.md) and the dashboard's admin API (docs/dashboard.md) print the same
// objects. Secrets never appear here; passwords and the org's user salt never appear at
// all.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "common/org_store.hpp"
#include "common/token_store.hpp"

namespace tka {

// {"organization_id", "name", "ttl", "token_auth", "created_at"}
nlohmann::json org_json(const Organization& org);
// {"key_id", "prefix" ("" when not known), "legacy", "created_at"}
nlohmann::json key_json(const SecretKeyInfo& key);
// {"token_id", "organization_id", "user_id", "username", "user_email", "status",
//  "created_at", "expires_at", "refreshed_at" (null when never refreshed), "ttl"}
nlohmann::json token_json(const TokenRecord& token);

// Pretty-printed, invalid UTF-8 replaced rather than thrown on, newline-terminated.
void print_json(std::ostream& out, const nlohmann::json& value);

}  // namespace tka
