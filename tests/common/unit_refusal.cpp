// Unit tests of common/refusal and common/errors: the one name per Refusal (as logged, as the
// Lua scripts answer, as the event stream and token records spell it), the parser that reads
// them back, and the two error families.
#include "common/refusal.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "common/errors.hpp"

using tka::Refusal;

TEST_CASE("refusal_name is the snake_case enum identifier", "[refusal]") {
    auto [refusal, name] = GENERATE(table<Refusal, std::string>({
        {Refusal::bad_request, "bad_request"},
        {Refusal::malformed_username, "malformed_username"},
        {Refusal::malformed_password, "malformed_password"},
        {Refusal::unknown_org, "unknown_org"},
        {Refusal::bad_secret_key, "bad_secret_key"},
        {Refusal::token_auth_off, "token_auth_off"},
        {Refusal::unknown_token, "unknown_token"},
        {Refusal::wrong_password, "wrong_password"},
        {Refusal::user_mismatch, "user_mismatch"},
        {Refusal::expired, "expired"},
        {Refusal::revoked, "revoked"},
        {Refusal::replaced, "replaced"},
        {Refusal::not_found, "not_found"},
        {Refusal::conflict, "conflict"},
        {Refusal::redis_unavailable, "redis_unavailable"},
        {Refusal::no_tick_events, "no_tick_events"},
        {Refusal::busy, "busy"},
    }));
    CHECK(tka::refusal_name(refusal) == name);
    CHECK(tka::parse_refusal(name) == refusal);
}

TEST_CASE("every refusal has its own name and a description, and parses back", "[refusal]") {
    std::set<std::string> names;
    for (const Refusal r : tka::kAllRefusals) {
        const std::string name(tka::refusal_name(r));
        CHECK(names.insert(name).second);
        CHECK_FALSE(tka::refusal_description(r).empty());
        CHECK(tka::parse_refusal(name) == r);
    }
    CHECK(names.size() == tka::kRefusalCount);
}

TEST_CASE("parse_refusal knows nothing but the names", "[refusal]") {
    // What the scripts answer besides a refusal, the spellings of earlier versions, and
    // near misses are not refusals.
    const std::string word =
        GENERATE(as<std::string>{}, "ok", "stale_salt", "", "unknown", "token_expired",
                 "token_revoked", "Expired", "expired ", std::string("expired\0x", 9));
    CHECK_FALSE(tka::parse_refusal(word).has_value());
}

TEST_CASE("Denied carries its refusal and a description", "[refusal][errors]") {
    const tka::Denied denied(Refusal::expired, "token expired");
    CHECK(denied.reason() == Refusal::expired);
    CHECK(std::string(denied.what()) == "token expired");
    const tka::Denied plain(Refusal::unknown_token);
    CHECK(std::string(plain.what()) == tka::refusal_description(Refusal::unknown_token));
    CHECK_THROWS_AS(throw tka::RedisError("down"), std::runtime_error);
}
