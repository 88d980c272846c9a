// Why a credential or a request is refused: one vocabulary for the whole product.
//
// tokend answers a refusal with an HTTP status (tokend/responses.cpp), tokenctl prints it,
// the plugin logs it when it refuses a CONNECT or closes a connection, and the Lua scripts
// answer with its name ({'expired'} rather than {'ok', ...}). Every layer speaks this enum;
// the names below are the only spelling, used verbatim in logs, in the scripts' answers, in
// the event stream (token.revoked's reason) and in token records (status), and
// parse_refusal() is the only way back from a name.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>

namespace tka {

enum class Refusal {
    // The request itself.
    bad_request,         // malformed or ill-typed input (tokend, tokenctl)
    malformed_username,  // "...@org_..." but not a valid user_id@org_id (plugin)
    malformed_password,  // "tkn_..." but not a well-formed token password (plugin)
    // The organization.
    unknown_org,     // no such organization (or Redis lost it)
    bad_secret_key,  // the secret key does not belong to the organization
    token_auth_off,  // token auth is switched off for the organization
    // The token.
    unknown_token,   // no such token id / no live token with this password in the org
    wrong_password,  // the password does not match the token id (refresh)
    user_mismatch,   // the token belongs to another user of the organization
    expired,         // its expires_at has passed
    revoked,         // revoked by an operator or a backend (the plugin: revoked or replaced)
    replaced,        // replaced by a newer token for the same e-mail
    // Administration (tokenctl, the dashboard).
    not_found,  // an admin object (key) does not exist
    conflict,   // the operation clashes with the current state
    // The broker could not decide safely, so it refuses (fail closed).
    redis_unavailable,  // Redis could not be asked
    no_tick_events,     // the broker sends no MOSQ_EVT_TICK: expiry could not be enforced
    busy,               // too many CONNECTs already wait for Redis (delayed basic auth)
    backoff,            // failed-auth backoff, and only Redis could decide (plugin)
};

// Every value, in declaration order (tests and counters iterate over it).
inline constexpr Refusal kAllRefusals[] = {
    Refusal::bad_request,
    Refusal::malformed_username,
    Refusal::malformed_password,
    Refusal::unknown_org,
    Refusal::bad_secret_key,
    Refusal::token_auth_off,
    Refusal::unknown_token,
    Refusal::wrong_password,
    Refusal::user_mismatch,
    Refusal::expired,
    Refusal::revoked,
    Refusal::replaced,
    Refusal::not_found,
    Refusal::conflict,
    Refusal::redis_unavailable,
    Refusal::no_tick_events,
    Refusal::busy,
    Refusal::backoff,
};
inline constexpr std::size_t kRefusalCount = std::size(kAllRefusals);

// The stable snake_case name (the enum identifier).
std::string_view refusal_name(Refusal refusal);
// A short human sentence, without any user-supplied text ("the token has expired").
std::string_view refusal_description(Refusal refusal);
// The refusal a name stands for; nullopt for anything else ("ok", "stale_salt", garbage).
std::optional<Refusal> parse_refusal(std::string_view name);

}  // namespace tka
