// Fuzz target for tokend's request bodies (tokend/request_parsing.hpp): every input is fed
// to parse_create, parse_refresh and parse_revoke as a body and to is_json_content_type as a
// Content-Type value. Beyond "no crash, no leak, no undefined behaviour", it checks what
// must hold for any body:
//   - nothing throws out of a parse function;
//   - a rejection is 400 invalid_request, or 401 with the endpoint's credential code
//     (invalid_client for create/revoke, invalid_grant for refresh), with a description;
//     error_body() of it is JSON carrying that code and repeats no credential-like string
//     value of the body (sk_..., cs_..., tkn_...: no secret echoed back);
//   - a body that is not a JSON object is a 400 invalid_request for all three;
//   - an accepted request holds only well-formed identifiers (common/identifiers.hpp), and
//     serialising it back to JSON and parsing that yields the same request.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/identifiers.hpp"
#include "fuzz/fuzz_check.hpp"
#include "tokend/request_parsing.hpp"
#include "tokend/responses.hpp"

namespace {

using nlohmann::json;
using tka::tokend::ApiError;
using tka::tokend::CreateRequest;
using tka::tokend::Parsed;
using tka::tokend::RefreshRequest;
using tka::tokend::RevokeRequest;
namespace ids = tka::ids;

bool is_email(const std::string& s) {
    return ids::normalise_email(s).has_value();
}

// A value that looks like a credential, well-formed or not: the error texts are fixed and
// contain none of these prefixes, so any such value in an error is an echo.
bool looks_like_credential(const std::string& s) {
    const std::string_view v(s);
    return v.starts_with("sk_") || v.starts_with("cs_") || v.starts_with("tkn_");
}

// No credential-like string value of the body (top level, as the parse functions read
// them) may appear in the error sent back.
void check_no_echo(const json& body, const std::string& rendered) {
    if (!body.is_object()) {
        return;
    }
    for (const auto& [key, value] : body.items()) {
        if (value.is_string()) {
            const auto& s = value.get_ref<const std::string&>();
            TKA_FUZZ_CHECK(!looks_like_credential(s) || rendered.find(s) == std::string::npos);
        }
    }
}

void check_error(const ApiError& error, const json& body, std::string_view credential_code) {
    const bool shape = error.status == 400 && error.code == "invalid_request";
    const bool credential = error.status == 401 && error.code == credential_code;
    TKA_FUZZ_CHECK(shape || credential);
    TKA_FUZZ_CHECK(body.is_object() || shape);  // not an object: a shape error, never 401
    TKA_FUZZ_CHECK(!error.description.empty());
    const std::string text = tka::tokend::error_body(error);
    check_no_echo(body, text);
    const json rendered = json::parse(text, nullptr, false);
    TKA_FUZZ_CHECK(rendered.is_object() && rendered.value("error", "") == error.code);
}

void check_create(const CreateRequest& r) {
    TKA_FUZZ_CHECK(ids::is_org_id(r.organization_id));
    TKA_FUZZ_CHECK(ids::is_secret_key(r.secret_key));
    TKA_FUZZ_CHECK(is_email(r.user_email));
    const json again = {{"organization_id", r.organization_id},
                        {"secret_key", r.secret_key},
                        {"user_email", r.user_email},
                        {"replace_existing", r.replace_existing}};
    const auto reparsed = tka::tokend::parse_create(again.dump());
    const auto* same = std::get_if<CreateRequest>(&reparsed);
    TKA_FUZZ_CHECK(same != nullptr && same->organization_id == r.organization_id &&
                   same->secret_key == r.secret_key && same->user_email == r.user_email &&
                   same->replace_existing == r.replace_existing);
}

void check_refresh(const RefreshRequest& r) {
    TKA_FUZZ_CHECK(ids::is_token_id(r.token_id));
    TKA_FUZZ_CHECK(ids::is_token_password(r.current_token_password));
    const json again = {{"token_id", r.token_id},
                        {"current_token_password", r.current_token_password}};
    const auto reparsed = tka::tokend::parse_refresh(again.dump());
    const auto* same = std::get_if<RefreshRequest>(&reparsed);
    TKA_FUZZ_CHECK(same != nullptr && same->token_id == r.token_id &&
                   same->current_token_password == r.current_token_password);
}

void check_revoke(const RevokeRequest& r) {
    TKA_FUZZ_CHECK(ids::is_org_id(r.organization_id));
    TKA_FUZZ_CHECK(ids::is_secret_key(r.secret_key));
    TKA_FUZZ_CHECK(r.token_id.has_value() != r.user_email.has_value());
    TKA_FUZZ_CHECK(!r.token_id || ids::is_token_id(*r.token_id));
    TKA_FUZZ_CHECK(!r.user_email || is_email(*r.user_email));
    json again = {{"organization_id", r.organization_id}, {"secret_key", r.secret_key}};
    if (r.token_id) {
        again["token_id"] = *r.token_id;
    } else {
        again["user_email"] = *r.user_email;
    }
    const auto reparsed = tka::tokend::parse_revoke(again.dump());
    const auto* same = std::get_if<RevokeRequest>(&reparsed);
    TKA_FUZZ_CHECK(same != nullptr && same->organization_id == r.organization_id &&
                   same->secret_key == r.secret_key && same->token_id == r.token_id &&
                   same->user_email == r.user_email);
}

// Runs one parse function; returns true when it accepted the body.
template <typename T, typename Check>
bool check_parse(Parsed<T> (*parse)(std::string_view), std::string_view text, const json& body,
                 std::string_view credential_code, Check check_request) {
    Parsed<T> parsed;
    try {
        parsed = parse(text);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "a parse function threw: %s\n", e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "a parse function threw a non-std exception\n");
        std::abort();
    }
    if (const auto* error = std::get_if<ApiError>(&parsed)) {
        check_error(*error, body, credential_code);
        return false;
    }
    check_request(std::get<T>(parsed));
    return true;
}

// Case-insensitivity and parameters must not change the answer for a media type.
void check_content_type(std::string_view text) {
    const bool json_type = tka::tokend::is_json_content_type(text);
    std::string swapped(text);
    for (char& c : swapped) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        } else if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    TKA_FUZZ_CHECK(tka::tokend::is_json_content_type(swapped) == json_type);
    if (text.find(';') == std::string_view::npos) {
        std::string with_parameter(text);
        with_parameter += "; charset=utf-8";
        TKA_FUZZ_CHECK(tka::tokend::is_json_content_type(with_parameter) == json_type);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // The reference reading of the body, independent of the code under test.
    const json body = json::parse(text, nullptr, /*allow_exceptions=*/false);

    const bool create =
        check_parse(&tka::tokend::parse_create, text, body, "invalid_client", check_create);
    const bool refresh =
        check_parse(&tka::tokend::parse_refresh, text, body, "invalid_grant", check_refresh);
    const bool revoke =
        check_parse(&tka::tokend::parse_revoke, text, body, "invalid_client", check_revoke);
    TKA_FUZZ_CHECK(body.is_object() || !(create || refresh || revoke));

    check_content_type(text);
    return 0;
}
