// Unit tests of common/time_format: RFC 3339 formatting and strict parsing (round trips of
// known instants, calendar edge cases, rejection of every other form) and the refresh hint.
#include "common/time_format.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

using tka::UnixSeconds;

TEST_CASE("format_rfc3339 and parse_rfc3339 round trip known instants", "[time]") {
    auto [t, text] = GENERATE(table<UnixSeconds, std::string>({
        {1774620000, "2026-03-27T14:00:00Z"},
        {1774619640, "2026-03-27T13:54:00Z"},
        {0, "1970-01-01T00:00:00Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {86399, "1970-01-01T23:59:59Z"},
        {951782400, "2000-02-29T00:00:00Z"},  // leap day of a year divisible by 400
        {951868799, "2000-02-29T23:59:59Z"},
        {951868800, "2000-03-01T00:00:00Z"},
        {1709164800, "2024-02-29T00:00:00Z"},  // ordinary leap day
        {1234567890, "2009-02-13T23:31:30Z"},
        {2147483647, "2038-01-19T03:14:07Z"},  // 32-bit time_t limit
        {2147483648, "2038-01-19T03:14:08Z"},
        {4102444800, "2100-01-01T00:00:00Z"},
        {-2208988800, "1900-01-01T00:00:00Z"},
        {253402300799, "9999-12-31T23:59:59Z"},
        {-62167219200, "0000-01-01T00:00:00Z"},
    }));
    CAPTURE(t, text);
    CHECK(tka::format_rfc3339(t) == text);
    const auto parsed = tka::parse_rfc3339(text);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == t);
}

TEST_CASE("format_rfc3339 rejects instants outside four-digit years", "[time]") {
    CHECK_THROWS_AS(tka::format_rfc3339(253402300800), std::out_of_range);
    CHECK_THROWS_AS(tka::format_rfc3339(-62167219201), std::out_of_range);
    CHECK_THROWS_AS(tka::format_rfc3339(INT64_MAX), std::out_of_range);
    CHECK_THROWS_AS(tka::format_rfc3339(INT64_MIN), std::out_of_range);
}

TEST_CASE("parse_rfc3339 rejects everything but YYYY-MM-DDTHH:MM:SSZ", "[time]") {
    const std::string input =
        GENERATE(as<std::string>{}, "", "2026-03-27",
                 "2026-03-27T14:00:00",        // no zone
                 "2026-03-27T14:00:00+00:00",  // offset instead of Z
                 "2026-03-27T14:00:00.000Z",   // fractional seconds
                 "2026-03-27t14:00:00Z",       // lowercase t
                 "2026-03-27T14:00:00z",       // lowercase z
                 "2026-03-27 14:00:00Z",       // space separator
                 " 2026-03-27T14:00:00Z", "2026-03-27T14:00:00Z ", "2026-3-27T14:00:00Z",
                 "2026-03-7T14:00:00Z", "26-03-27T14:00:00Z", "+026-03-27T14:00:00Z",
                 "-026-03-27T14:00:00Z", "2026-+3-27T14:00:00Z", "2026-03-27T1a:00:00Z",
                 "2026/03/27T14:00:00Z", "2026-03-27T14-00-00Z",
                 "2026-00-27T14:00:00Z",  // month 0
                 "2026-13-27T14:00:00Z",  // month 13
                 "2026-03-00T14:00:00Z",  // day 0
                 "2026-03-32T14:00:00Z",
                 "2026-04-31T14:00:00Z",  // April has 30 days
                 "2026-02-29T14:00:00Z",  // 2026 is not a leap year
                 "1900-02-29T14:00:00Z",  // centuries are not leap years
                 "2026-03-27T24:00:00Z", "2026-03-27T14:60:00Z",
                 "2026-03-27T14:00:60Z",  // no leap seconds
                 "2026-03-27T14:00:99Z", std::string("2026-03-27T14:00:00\0", 20));
    CAPTURE(input);
    CHECK_FALSE(tka::parse_rfc3339(input).has_value());
}

TEST_CASE("parse_rfc3339 accepts the last valid value of every field", "[time]") {
    CHECK(tka::parse_rfc3339("2026-12-31T23:59:59Z") == 1798761599);
    CHECK(tka::parse_rfc3339("2024-02-29T12:00:00Z") == 1709208000);
    CHECK(tka::parse_rfc3339("2026-04-30T00:00:00Z") == 1777507200);
}

TEST_CASE("format_rfc3339 is the inverse of parse_rfc3339 over many instants", "[time]") {
    // Step through 400 years (one full Gregorian cycle) with an odd stride.
    for (UnixSeconds t = -2208988800; t < 10413792000; t += 7777777) {
        const std::string text = tka::format_rfc3339(t);
        REQUIRE(text.size() == 20);
        REQUIRE(tka::parse_rfc3339(text) == t);
    }
}

TEST_CASE("refresh_recommended_at is expires_at minus a tenth of the TTL", "[time]") {
    auto [expires_at, ttl, expected] = GENERATE(table<UnixSeconds, std::int64_t, UnixSeconds>({
        {1774620000, 3600, 1774620000 - 360},
        {1774620000, 60, 1774619994},
        {1774620000, 1, 1774620000},  // 1 / 10 rounds down to 0
        {1774620000, 9, 1774620000},
        {1774620000, 10, 1774619999},
        {1774620000, 19, 1774619999},
        {1774620000, 2592000, 1774620000 - 259200},  // 30 days
        {1000, 0, 1000},
    }));
    CHECK(tka::refresh_recommended_at(expires_at, ttl) == expected);
}

TEST_CASE("refresh hint of the DESIGN.md example", "[time]") {
    const auto expires_at = tka::parse_rfc3339("2026-03-27T14:00:00Z");
    REQUIRE(expires_at);
    CHECK(tka::format_rfc3339(tka::refresh_recommended_at(*expires_at, 3600)) ==
          "2026-03-27T13:54:00Z");
}

TEST_CASE("unix_now is a current instant", "[time]") {
    const UnixSeconds now = tka::unix_now();
    CHECK(now > 1735689600);  // after 2025-01-01
    CHECK(now < 4102444800);  // before 2100-01-01
    CHECK(tka::parse_rfc3339(tka::format_rfc3339(now)) == now);
}
