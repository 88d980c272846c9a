// Validation of the JSON bodies of the POST endpoints: a table of requests and the
// status/code each must produce (or acceptance), without any network.
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "tokend/request_parsing.hpp"

using namespace tka::tokend;

namespace {

const std::string kOrg = "org_k7xm4pqr2n5t";
const std::string kKey = "sk_0123456789abcdefghijABCDEFGHIJ0123456789a";
const std::string kTokenId = "0b8e3c57-5a3c-4d0e-9a8b-3f2e1d0c9b8a";
const std::string kPassword = "tkn_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCde";

struct Case {
    std::string name;
    std::string body;
    int status;        // 0: accepted
    std::string code;  // expected error code when rejected
};

template <typename T>
void check(const Case& c, const Parsed<T>& parsed) {
    INFO(c.name << ": " << c.body);
    if (c.status == 0) {
        REQUIRE(std::holds_alternative<T>(parsed));
    } else {
        REQUIRE(std::holds_alternative<ApiError>(parsed));
        const auto& e = std::get<ApiError>(parsed);
        CHECK(e.status == c.status);
        CHECK(e.code == c.code);
        CHECK_FALSE(e.description.empty());
        // Never echo a credential back.
        CHECK(e.description.find(kKey) == std::string::npos);
        CHECK(e.description.find(kPassword) == std::string::npos);
    }
}

std::string create_json(const std::string& extra = "", const std::string& email = "a@b.io") {
    return R"({"organization_id":")" + kOrg + R"(","secret_key":")" + kKey + R"(","user_email":")" +
           email + "\"" + extra + "}";
}

}  // namespace

TEST_CASE("create request validation", "[tokend][unit]") {
    auto c = GENERATE(
        Case{"minimal", create_json(), 0, ""},
        Case{"replace_existing false", create_json(R"(,"replace_existing":false)"), 0, ""},
        Case{"unknown fields ignored", create_json(R"(,"extra":[1,2],"x":null)"), 0, ""},
        Case{"not JSON", "{organization_id:", 400, "invalid_request"},
        Case{"empty body", "", 400, "invalid_request"},
        Case{"array", "[1,2]", 400, "invalid_request"},
        Case{"string", R"("hello")", 400, "invalid_request"},
        Case{"missing org", R"({"secret_key":")" + kKey + R"(","user_email":"a@b.io"})", 400,
             "invalid_request"},
        Case{"missing key", R"({"organization_id":")" + kOrg + R"(","user_email":"a@b.io"})", 400,
             "invalid_request"},
        Case{"missing email",
             R"({"organization_id":")" + kOrg + R"(","secret_key":")" + kKey + "\"}", 400,
             "invalid_request"},
        Case{"org is a number",
             R"({"organization_id":12,"secret_key":")" + kKey + R"(","user_email":"a@b.io"})", 400,
             "invalid_request"},
        Case{"email is null",
             R"({"organization_id":")" + kOrg + R"(","secret_key":")" + kKey +
                 R"(","user_email":null})",
             400, "invalid_request"},
        Case{"replace_existing string", create_json(R"(,"replace_existing":"true")"), 400,
             "invalid_request"},
        Case{"replace_existing number", create_json(R"(,"replace_existing":1)"), 400,
             "invalid_request"},
        Case{"replace_existing null", create_json(R"(,"replace_existing":null)"), 400,
             "invalid_request"},
        Case{"bad email: no at", create_json("", "not-an-email"), 400, "invalid_request"},
        Case{"bad email: two ats", create_json("", "a@b@c.io"), 400, "invalid_request"},
        Case{"bad email: empty", create_json("", ""), 400, "invalid_request"},
        Case{"malformed org id",
             R"({"organization_id":"org_X","secret_key":")" + kKey + R"(","user_email":"a@b.io"})",
             401, "invalid_client"},
        Case{"malformed secret key",
             R"({"organization_id":")" + kOrg +
                 R"(","secret_key":"sk_short","user_email":"a@b.io"})",
             401, "invalid_client"},
        Case{"legacy cs_ key accepted",
             R"({"organization_id":")" + kOrg +
                 R"(","secret_key":"cs_legacy_key_1234567890",)"
                 R"("user_email":"a@b.io"})",
             0, ""});
    auto parsed = parse_create(c.body);
    check(c, parsed);
    if (c.status == 0) {
        const auto& r = std::get<CreateRequest>(parsed);
        CHECK(r.organization_id.rfind("org_", 0) == 0);
        CHECK(r.replace_existing == (c.name != "replace_existing false"));
    }
}

TEST_CASE("refresh request validation", "[tokend][unit]") {
    auto c = GENERATE(
        Case{"valid",
             R"({"token_id":")" + kTokenId + R"(","current_token_password":")" + kPassword + "\"}",
             0, ""},
        Case{"missing password", R"({"token_id":")" + kTokenId + "\"}", 400, "invalid_request"},
        Case{"missing token id", R"({"current_token_password":")" + kPassword + "\"}", 400,
             "invalid_request"},
        Case{"password is a number",
             R"({"token_id":")" + kTokenId + R"(","current_token_password":42})", 400,
             "invalid_request"},
        Case{"token id not a UUID",
             R"({"token_id":"nope","current_token_password":")" + kPassword + "\"}", 401,
             "invalid_grant"},
        Case{"password without tkn_",
             R"({"token_id":")" + kTokenId + R"(","current_token_password":"hunter2"})", 401,
             "invalid_grant"},
        Case{"not JSON", "nope", 400, "invalid_request"});
    check(c, parse_refresh(c.body));
}

TEST_CASE("revoke request validation", "[tokend][unit]") {
    const std::string creds =
        R"({"organization_id":")" + kOrg + R"(","secret_key":")" + kKey + "\"";
    auto c = GENERATE_REF(
        Case{"by token id", creds + R"(,"token_id":")" + kTokenId + "\"}", 0, ""},
        Case{"by e-mail", creds + R"(,"user_email":"a@b.io"})", 0, ""},
        Case{"neither", creds + "}", 400, "invalid_request"},
        Case{"both", creds + R"(,"token_id":")" + kTokenId + R"(","user_email":"a@b.io"})", 400,
             "invalid_request"},
        Case{"token id not a UUID", creds + R"(,"token_id":"123"})", 400, "invalid_request"},
        Case{"token id ill-typed", creds + R"(,"token_id":123})", 400, "invalid_request"},
        Case{"bad e-mail", creds + R"(,"user_email":"nobody"})", 400, "invalid_request"},
        Case{"missing key", R"({"organization_id":")" + kOrg + R"(","user_email":"a@b.io"})", 400,
             "invalid_request"});
    check(c, parse_revoke(c.body));
}

TEST_CASE("JSON content types", "[tokend][unit]") {
    CHECK(is_json_content_type("application/json"));
    CHECK(is_json_content_type("Application/JSON"));
    CHECK(is_json_content_type("application/json; charset=utf-8"));
    CHECK(is_json_content_type(" application/json ;charset=UTF-8"));
    CHECK_FALSE(is_json_content_type(""));
    CHECK_FALSE(is_json_content_type("text/plain"));
    CHECK_FALSE(is_json_content_type("application/x-www-form-urlencoded"));
    CHECK_FALSE(is_json_content_type("application/jsonp"));
    CHECK_FALSE(is_json_content_type("multipart/form-data; boundary=x"));
}
