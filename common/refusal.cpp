// The one name table of tka::Refusal (refusal.hpp) and its parser.
#include "common/refusal.hpp"

namespace tka {
namespace {

struct Entry {
    std::string_view name;
    std::string_view description;
};

// Indexed by the enum's value; the static_assert below keeps the two lists in step.
constexpr Entry kTable[] = {
    {"bad_request", "the request is malformed"},
    {"malformed_username", "the username is not a valid user_id@org_id"},
    {"malformed_password", "the password is not a well-formed token password"},
    {"unknown_org", "unknown organization"},
    {"bad_secret_key", "unknown organization or wrong secret key"},
    {"token_auth_off", "token auth is off for this organization"},
    {"unknown_token", "unknown token"},
    {"wrong_password", "wrong token id or password"},
    {"user_mismatch", "the token belongs to another user"},
    {"expired", "the token has expired"},
    {"revoked", "the token has been revoked"},
    {"replaced", "the token has been replaced by a newer one"},
    {"not_found", "not found"},
    {"conflict", "the request conflicts with the current state"},
    {"redis_unavailable", "Redis is unavailable"},
    {"no_tick_events", "the broker sends no tick events, so expiry cannot be enforced"},
    {"busy", "too many connections are waiting for Redis"},
    {"backoff", "too many failed attempts from this address or for this username"},
};
static_assert(std::size(kTable) == kRefusalCount, "one table entry per Refusal");

const Entry& entry(Refusal refusal) {
    const auto i = static_cast<std::size_t>(refusal);
    static constexpr Entry kOutOfRange{"unknown", "unknown refusal"};
    return i < kRefusalCount ? kTable[i] : kOutOfRange;  // out of range: only through a cast
}

}  // namespace

std::string_view refusal_name(Refusal refusal) {
    return entry(refusal).name;
}

std::string_view refusal_description(Refusal refusal) {
    return entry(refusal).description;
}

std::optional<Refusal> parse_refusal(std::string_view name) {
    for (const Refusal r : kAllRefusals) {
        if (kTable[static_cast<std::size_t>(r)].name == name) {
            return r;
        }
    }
    return std::nullopt;
}

}  // namespace tka
