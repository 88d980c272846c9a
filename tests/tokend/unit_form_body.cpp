// The dashboard's form and query-string parser (tokend/form_body.hpp).
#include <catch2/catch.hpp>

#include "tokend/form_body.hpp"

using namespace tka::tokend;

TEST_CASE("form: pairs, percent escapes and '+' as space", "[tokend][unit]") {
    auto r = parse_form("name=Acme+%26+Co&ttl=3600&token_auth=on&empty=&bare&&csrf=a%2Bb%3d");
    REQUIRE(r.fields);
    CHECK(form_value(*r.fields, "name") == "Acme & Co");
    CHECK(form_value(*r.fields, "ttl") == "3600");
    CHECK(form_value(*r.fields, "token_auth") == "on");
    CHECK(form_value(*r.fields, "empty").empty());
    CHECK(r.fields->count("bare") == 1);
    CHECK(form_value(*r.fields, "csrf") == "a+b=");
    CHECK(form_value(*r.fields, "absent").empty());
    CHECK(r.fields->size() == 6);
}

TEST_CASE("form: UTF-8 and bytes pass through undecoded beyond %XX", "[tokend][unit]") {
    auto r = parse_form("name=%E2%80%AE%00x&e=a=b");
    REQUIRE(r.fields);
    CHECK(form_value(*r.fields, "name") == std::string("\xE2\x80\xAE\0x", 5));
    CHECK(form_value(*r.fields, "e") == "a=b");
}

TEST_CASE("form: an empty body has no fields", "[tokend][unit]") {
    auto r = parse_form("");
    REQUIRE(r.fields);
    CHECK(r.fields->empty());
}

TEST_CASE("form: broken escapes and repeated names are refused", "[tokend][unit]") {
    auto body = GENERATE(as<std::string>{}, "a=%", "a=%4", "a=%zz", "a=%4g", "%=1", "a%2=1",
                         "a=1&a=2", "a=1&b=2&a=", "a+b=1&a%20b=2");
    auto r = parse_form(body);
    CHECK_FALSE(r.fields);
    CHECK_FALSE(r.error.empty());
    CHECK(r.error.find(body) == std::string::npos);
}

TEST_CASE("form: encode round-trips through parse", "[tokend][unit]") {
    const std::string value = "Ann+Bo@example.com & x=y/%\xC3\xA9";
    auto r = parse_form("email=" + form_encode(value));
    REQUIRE(r.fields);
    CHECK(form_value(*r.fields, "email") == value);
    CHECK(form_encode("a-b_c.d~e") == "a-b_c.d~e");
}
