// JSON response bodies and the Denied -> HTTP mapping (docs/http-api.md, "Errors").
#include "tokend/responses.hpp"

#include <nlohmann/json.hpp>

#include "common/time_format.hpp"

namespace tka::tokend {

namespace {

std::string dump(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

ApiError error_for(Refusal reason, Endpoint endpoint) {
    switch (reason) {
        case Refusal::bad_request:
            return {400, "invalid_request", "the request is malformed"};
        case Refusal::unknown_org:
        case Refusal::bad_secret_key:
            // One text for both: callers must not learn which organizations exist.
            return {401, "invalid_client", "unknown organization or wrong secret key"};
        case Refusal::token_auth_off:
            return {403, "access_denied", "token auth is switched off for this organization"};
        case Refusal::unknown_token:
            if (endpoint == Endpoint::revoke) {
                return {404, "not_found", "no token with this id in this organization"};
            }
            return {401, "invalid_grant", "unknown token or wrong password"};
        case Refusal::wrong_password:
            return {401, "invalid_grant", "unknown token or wrong password"};
        case Refusal::expired:
            return {410, "token_expired", "the token has expired"};
        case Refusal::revoked:
            return {410, "token_revoked", "the token has been revoked"};
        case Refusal::replaced:
            return {410, "token_replaced", "the token has been replaced by a newer one"};
        case Refusal::not_found:
            return {404, "not_found", "not found"};
        case Refusal::conflict:
            return {409, "conflict", "the request conflicts with the current state"};
        case Refusal::malformed_username:
        case Refusal::malformed_password:
        case Refusal::user_mismatch:
        case Refusal::redis_unavailable:
        case Refusal::no_tick_events:
        case Refusal::busy:
        case Refusal::backoff:
            break;  // the broker's refusals of a CONNECT: tokend never meets them
    }
    return {500, "server_error", "internal error"};
}

std::string error_body(const ApiError& error) {
    nlohmann::ordered_json j;
    j["error"] = error.code;
    j["error_description"] = error.description;
    return dump(j);
}

std::string token_body(const IssuedToken& token, std::string_view provider) {
    nlohmann::ordered_json j;
    j["access_token"] = token.password;
    j["token_type"] = "Bearer";
    j["expires_in"] = token.ttl;
    j["mqtt_credentials"] = {{"username", token.username()}, {"password", token.password}};
    j["token_id"] = token.token_id;
    j["user_email"] = token.email;
    j["provider"] = std::string(provider);
    j["expires_at"] = format_rfc3339(token.expires_at);
    j["refresh_recommended_at"] =
        format_rfc3339(refresh_recommended_at(token.expires_at, token.ttl));
    return dump(j);
}

std::string revoke_body(const std::vector<std::string>& revoked) {
    nlohmann::ordered_json j;
    j["revoked"] = revoked;
    j["count"] = revoked.size();
    return dump(j);
}

ApiError error_for_status(int status) {
    switch (status) {
        case 400:
            return {400, "invalid_request", "the request is malformed"};
        case 404:
            return {404, "not_found", "no such endpoint"};
        case 405:
            return {405, "method_not_allowed", "method not allowed on this endpoint"};
        case 408:
            return {408, "request_timeout", "the request did not arrive in time"};
        case 413:
            return {413, "payload_too_large", "the request body is too large"};
        case 415:
            return {415, "unsupported_media_type", "the request body must be application/json"};
        case 431:
            return {431, "header_too_large", "the request header is too large"};
        case 429:
            return {429, "rate_limited", "too many requests; retry later"};
        case 503:
            return {503, "temporarily_unavailable", "the token store is temporarily unavailable"};
        default:
            if (status >= 500) {
                return {status, "server_error", "internal error"};
            }
            return {status, "invalid_request", "the request could not be processed"};
    }
}

}  // namespace tka::tokend
