// Unit tests of common/errors: the stable names of every Reason and the two error families.
#include "common/errors.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using tka::Reason;

TEST_CASE("reason_name is the snake_case enum identifier", "[errors]") {
    auto [reason, name] = GENERATE(table<Reason, std::string>({
        {Reason::bad_request, "bad_request"},
        {Reason::unknown_org, "unknown_org"},
        {Reason::bad_secret_key, "bad_secret_key"},
        {Reason::token_auth_off, "token_auth_off"},
        {Reason::unknown_token, "unknown_token"},
        {Reason::wrong_password, "wrong_password"},
        {Reason::token_expired, "token_expired"},
        {Reason::token_revoked, "token_revoked"},
        {Reason::token_replaced, "token_replaced"},
        {Reason::not_found, "not_found"},
        {Reason::conflict, "conflict"},
    }));
    CHECK(tka::reason_name(reason) == name);
}

TEST_CASE("Denied carries its reason and description", "[errors]") {
    const tka::Denied denied(Reason::token_expired, "token expired");
    CHECK(denied.reason() == Reason::token_expired);
    CHECK(std::string(denied.what()) == "token expired");
    CHECK_THROWS_AS(throw tka::RedisError("down"), std::runtime_error);
}
