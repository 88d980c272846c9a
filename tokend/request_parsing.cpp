// JSON request validation for tokend's POST endpoints (see request_parsing.hpp).
#include "tokend/request_parsing.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>

#include "common/identifiers.hpp"

namespace tka::tokend {

namespace {

using nlohmann::json;

ApiError invalid(std::string description) {
    return {400, "invalid_request", std::move(description)};
}

ApiError invalid_client() {
    return error_for(Refusal::bad_secret_key, Endpoint::create);
}

ApiError invalid_grant() {
    return error_for(Refusal::wrong_password, Endpoint::refresh);
}

// Parses the body as a JSON object; the error names no part of the body.
std::variant<json, ApiError> parse_object(std::string_view body) {
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return invalid("the body is not valid JSON");
    }
    if (!j.is_object()) {
        return invalid("the body must be a JSON object");
    }
    return j;
}

// A required string field; nullopt + error when missing or not a string.
std::optional<std::string> string_field(const json& j, const char* name, ApiError& error) {
    auto it = j.find(name);
    if (it == j.end()) {
        error = invalid(fmt::format("missing field \"{}\"", name));
        return std::nullopt;
    }
    if (!it->is_string()) {
        error = invalid(fmt::format("field \"{}\" must be a string", name));
        return std::nullopt;
    }
    return it->get<std::string>();
}

// An optional string field: absent -> nullopt without error.
std::optional<std::string> optional_string_field(const json& j, const char* name, ApiError& error) {
    if (!j.contains(name)) {
        return std::nullopt;
    }
    return string_field(j, name, error);
}

bool valid_email(const std::string& email) {
    return ids::normalise_email(email).has_value();
}

ApiError bad_email() {
    return invalid("\"user_email\" is not a valid e-mail address");
}

}  // namespace

Parsed<CreateRequest> parse_create(std::string_view body) {
    auto parsed = parse_object(body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return *e;
    }
    const json& j = std::get<json>(parsed);
    ApiError error;
    CreateRequest r;
    auto org = string_field(j, "organization_id", error);
    if (!org) {
        return error;
    }
    auto key = string_field(j, "secret_key", error);
    if (!key) {
        return error;
    }
    auto email = string_field(j, "user_email", error);
    if (!email) {
        return error;
    }
    if (auto it = j.find("replace_existing"); it != j.end()) {
        if (!it->is_boolean()) {
            return invalid("field \"replace_existing\" must be true or false");
        }
        r.replace_existing = it->get<bool>();
    }
    if (!valid_email(*email)) {
        return bad_email();
    }
    if (!ids::is_org_id(*org) || !ids::is_secret_key(*key)) {
        return invalid_client();
    }
    r.organization_id = std::move(*org);
    r.secret_key = std::move(*key);
    r.user_email = std::move(*email);
    return r;
}

Parsed<RefreshRequest> parse_refresh(std::string_view body) {
    auto parsed = parse_object(body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return *e;
    }
    const json& j = std::get<json>(parsed);
    ApiError error;
    auto token_id = string_field(j, "token_id", error);
    if (!token_id) {
        return error;
    }
    auto password = string_field(j, "current_token_password", error);
    if (!password) {
        return error;
    }
    if (!ids::is_token_id(*token_id) || !ids::is_token_password(*password)) {
        return invalid_grant();
    }
    return RefreshRequest{std::move(*token_id), std::move(*password)};
}

Parsed<RevokeRequest> parse_revoke(std::string_view body) {
    auto parsed = parse_object(body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
        return *e;
    }
    const json& j = std::get<json>(parsed);
    ApiError error;
    RevokeRequest r;
    auto org = string_field(j, "organization_id", error);
    if (!org) {
        return error;
    }
    auto key = string_field(j, "secret_key", error);
    if (!key) {
        return error;
    }
    r.token_id = optional_string_field(j, "token_id", error);
    if (!r.token_id && j.contains("token_id")) {
        return error;
    }
    r.user_email = optional_string_field(j, "user_email", error);
    if (!r.user_email && j.contains("user_email")) {
        return error;
    }
    if (r.token_id.has_value() == r.user_email.has_value()) {
        return invalid("give exactly one of \"token_id\" and \"user_email\"");
    }
    if (r.token_id && !ids::is_token_id(*r.token_id)) {
        return invalid("\"token_id\" is not a token id (UUID)");
    }
    if (r.user_email && !valid_email(*r.user_email)) {
        return bad_email();
    }
    if (!ids::is_org_id(*org) || !ids::is_secret_key(*key)) {
        return invalid_client();
    }
    r.organization_id = std::move(*org);
    r.secret_key = std::move(*key);
    return r;
}

bool is_json_content_type(std::string_view content_type) {
    auto semicolon = content_type.find(';');
    std::string_view media = content_type.substr(0, semicolon);
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) {
        media.remove_prefix(1);
    }
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
        media.remove_suffix(1);
    }
    constexpr std::string_view kJson = "application/json";
    if (media.size() != kJson.size()) {
        return false;
    }
    for (std::size_t i = 0; i < kJson.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(media[i])) != kJson[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace tka::tokend
