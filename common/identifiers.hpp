// The identifiers of DESIGN.md ("Identifiers"): how each is generated and how each is
// validated. Validation is strict: anything that is not exactly the documented form is
// rejected, so no malformed id ever reaches a Redis key name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tka::ids {

// org_ + 12 of [a-z0-9]
std::string new_org_id();
bool is_org_id(std::string_view s);

// sk_ + 43 base62 chars (~256 bits)
std::string new_secret_key();
// sk_ + >= 32 base62 chars, or a legacy cs_ + >= 16 of [A-Za-z0-9_-]; at most 256 chars.
bool is_secret_key(std::string_view s);
bool is_legacy_secret_key(std::string_view s);

// key_ + 12 of [a-z0-9]: names a secret key in listings without revealing it.
std::string new_key_id();
bool is_key_id(std::string_view s);

// tkn_ + base64url of 32 random bytes (43 chars).
std::string new_token_password();
bool is_token_password(std::string_view s);  // tkn_ + 43..128 of [A-Za-z0-9_-]

// Lowercase canonical UUID v4.
std::string new_token_id();
bool is_token_id(std::string_view s);

// 24 lowercase hex chars of HMAC-SHA-256(org's user salt, normalised e-mail): stable per
// (organization, e-mail), and not reversible without the salt, which never leaves Redis.
std::string derive_user_id(std::string_view user_salt, std::string_view normalised_email);
bool is_user_id(std::string_view s);  // 12..64 of [a-z0-9]

// Trimmed and lowercased e-mail, or nullopt when it is not a plausible address
// (one '@', non-empty local part <= 64, dotted domain of [a-z0-9.-], <= 254 in all).
std::optional<std::string> normalise_email(std::string_view email);

// MQTT username "user_id@org_id".
std::string format_username(std::string_view user_id, std::string_view org_id);
struct Username {
    std::string user_id;
    std::string org_id;
};
// Parses "user_id@org_id"; nullopt unless both halves are valid identifiers.
std::optional<Username> parse_username(std::string_view username);

}  // namespace tka::ids
