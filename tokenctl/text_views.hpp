// The human-readable forms of tokenctl's output: one "field  value" block per object, or an
// aligned table per list. Meant for eyes; scripts use --json (common/json_views.hpp).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common/admin_store.hpp"
#include "common/org_store.hpp"
#include "common/token_store.hpp"

namespace tka::tokenctl {

// 3600 -> "1h", 90 -> "1m 30s", 2592000 -> "30d".
std::string human_duration(std::int64_t seconds);

// "field  value" lines with the values aligned.
void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields);

// The fields of an organization as print_org shows them (never its user salt).
std::vector<std::pair<std::string, std::string>> org_fields(const Organization& org);
void print_org(std::ostream& out, const Organization& org);
void print_orgs(std::ostream& out, const std::vector<Organization>& orgs);
void print_keys(std::ostream& out, const std::vector<SecretKeyInfo>& keys);
void print_tokens(std::ostream& out, const std::vector<TokenRecord>& tokens);
void print_admins(std::ostream& out, const std::vector<AdminInfo>& admins);

}  // namespace tka::tokenctl
