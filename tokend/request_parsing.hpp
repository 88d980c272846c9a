// Validation of the JSON request bodies of /v2/tokens/{create,refresh,revoke}: exact field
// types, required fields, optional "replace_existing" (bool, default true); unknown fields
// are ignored. Pure functions over the body text, so every rule is unit-testable.
//
// Shape errors are 400 invalid_request. Identifier *values* are checked here too where a
// wrong value is a wrong credential (malformed org id / secret key: 401 invalid_client;
// malformed token id / password on refresh: 401 invalid_grant): a caller cannot tell a
// malformed credential from a merely wrong one, and no junk ever reaches a Redis key name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tokend/responses.hpp"

namespace tka::tokend {

struct CreateRequest {
    std::string organization_id;
    std::string secret_key;
    std::string user_email;
    bool replace_existing = true;
};

struct RefreshRequest {
    std::string token_id;
    std::string current_token_password;
};

struct RevokeRequest {
    std::string organization_id;
    std::string secret_key;
    std::optional<std::string> token_id;  // exactly one of token_id and user_email
    std::optional<std::string> user_email;
};

template <typename T>
using Parsed = std::variant<T, ApiError>;

Parsed<CreateRequest> parse_create(std::string_view body);
Parsed<RefreshRequest> parse_refresh(std::string_view body);
Parsed<RevokeRequest> parse_revoke(std::string_view body);

// True for "application/json", any case, with or without parameters (charset=...).
bool is_json_content_type(std::string_view content_type);

}  // namespace tka::tokend
