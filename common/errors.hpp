// The error types shared by every program. Two families, kept apart on purpose:
//  - RedisError: the store could not be reached or answered garbage (maps to HTTP 503,
//    to "fail closed" in the plugin). The connection that threw it is broken.
//  - Denied: the request was understood and refused (wrong key, expired token, ...).
//    Its Refusal (common/refusal.hpp) decides the HTTP status and the OAuth-style error code.
#pragma once

#include <stdexcept>
#include <string>

#include "common/refusal.hpp"

namespace tka {

class RedisError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Denied : public std::runtime_error {
  public:
    // The refusal's own description (refusal_description) as the message.
    explicit Denied(Refusal refusal)
        : std::runtime_error(std::string(refusal_description(refusal))), refusal_(refusal) {}
    Denied(Refusal refusal, const std::string& description)
        : std::runtime_error(description), refusal_(refusal) {}
    Refusal reason() const { return refusal_; }

  private:
    Refusal refusal_;
};

}  // namespace tka
