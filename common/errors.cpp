// Owns the stable machine-readable names of tka::Reason (errors.hpp): each is the snake_case
// enum identifier, used verbatim as the JSON "error" field and in logs.
#include "common/errors.hpp"

namespace tka {

std::string_view reason_name(Reason reason) {
    switch (reason) {
        case Reason::bad_request:
            return "bad_request";
        case Reason::unknown_org:
            return "unknown_org";
        case Reason::bad_secret_key:
            return "bad_secret_key";
        case Reason::token_auth_off:
            return "token_auth_off";
        case Reason::unknown_token:
            return "unknown_token";
        case Reason::wrong_password:
            return "wrong_password";
        case Reason::token_expired:
            return "token_expired";
        case Reason::token_revoked:
            return "token_revoked";
        case Reason::token_replaced:
            return "token_replaced";
        case Reason::not_found:
            return "not_found";
        case Reason::conflict:
            return "conflict";
    }
    return "unknown";  // only reachable through a cast of an out-of-range value
}

}  // namespace tka
