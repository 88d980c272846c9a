// The error types shared by every program. Two families, kept apart on purpose:
//  - RedisError: the store could not be reached or answered garbage (maps to HTTP 503,
//    to "fail closed" in the plugin). The connection that threw it is broken.
//  - Denied: the request was understood and refused (wrong key, expired token, ...).
//    The Reason decides the HTTP status and the OAuth-style error code.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace tka {

class RedisError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class Reason {
    bad_request,     // malformed or ill-typed input
    unknown_org,     // organization does not exist
    bad_secret_key,  // secret key does not belong to the organization
    token_auth_off,  // token auth is switched off for the organization
    unknown_token,   // no such token id (or it was purged)
    wrong_password,  // password does not match the token
    token_expired,   // expires_at has passed
    token_revoked,   // revoked by an operator or a backend
    token_replaced,  // replaced by a newer token for the same e-mail
    not_found,       // an admin object (key, org) does not exist
    conflict,        // admin operation clashes with existing state
};

// Stable machine-readable name of a reason, used in JSON errors and logs.
std::string_view reason_name(Reason reason);

class Denied : public std::runtime_error {
  public:
    Denied(Reason reason, const std::string& description)
        : std::runtime_error(description), reason_(reason) {}
    Reason reason() const { return reason_; }

  private:
    Reason reason_;
};

}  // namespace tka
