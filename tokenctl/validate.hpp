// Validation of every argument tokenctl accepts, before anything touches Redis. Each
// function returns the checked (possibly normalised) value or throws UsageError with a
// one-line message. Secrets are never echoed back in a message; other values are, quoted
// and only when short and printable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tka::tokenctl {

std::string checked_org_id(std::string_view s);
std::string checked_key_id(std::string_view s);
std::string checked_token_id(std::string_view s);

// An organization name: the rule of common/display_name.hpp, at most kMaxOrgNameBytes.
std::string checked_org_name(std::string_view s);

// An admin account name: the rule of common/display_name.hpp, at most kMaxAdminNameBytes.
// `what` names the argument in the message ("--name", "NAME").
std::string checked_admin_name(std::string_view what, std::string_view s);

// Whole seconds within tka::kMinTtlSeconds..kMaxTtlSeconds (1 s .. 30 days).
std::int64_t checked_ttl(std::string_view s);

// "on" or "off" (the value of --token-auth).
bool checked_on_off(std::string_view flag, std::string_view s);

// A plausible e-mail address, returned normalised (trimmed, lowercase).
std::string checked_email(std::string_view s);

// A legacy cs_ secret key; the message never contains the key.
std::string checked_legacy_key(std::string_view s);

// `s` in single quotes when it is short printable ASCII, else a neutral placeholder.
std::string quoted(std::string_view s);

}  // namespace tka::tokenctl
