// The JSON bodies tokend sends, in one place: the token response of the seed product
// (exact key order), the revoke response, and the OAuth-style error body with the mapping
// from tka::Denied reasons to HTTP statuses and error codes. Descriptions are fixed texts
// written here, never copied from the request, so no secret can be echoed back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"
#include "common/token_store.hpp"

namespace tka::tokend {

struct ApiError {
    int status = 500;
    std::string code;         // "invalid_request", "invalid_grant", ...
    std::string description;  // human text
};

// Which endpoint a Denied came from changes a few mappings (unknown_token is a wrong
// credential on refresh, a missing object on revoke).
enum class Endpoint { create, refresh, revoke };

ApiError error_for(Refusal reason, Endpoint endpoint);

// {"error": code, "error_description": description}
std::string error_body(const ApiError& error);

// The create/refresh success body, keys in the seed's order.
std::string token_body(const IssuedToken& token, std::string_view provider);

// {"revoked": [ids], "count": n}
std::string revoke_body(const std::vector<std::string>& revoked);

// The error tokend reports for a bare HTTP status (404, 405, 408, 413, 431, ...).
ApiError error_for_status(int status);

}  // namespace tka::tokend
