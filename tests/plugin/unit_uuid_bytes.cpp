// uuid_bytes: only canonical lowercase UUIDs parse, and formatting gives the same text back.
#include <catch2/catch.hpp>

#include "plugin/uuid_bytes.hpp"

using tka::plugin::format_lowercase_uuid;
using tka::plugin::parse_lowercase_uuid;

TEST_CASE("uuid bytes: canonical lowercase round trip, anything else refused", "[plugin][uuid]") {
    const std::string id = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0ff";
    const auto bytes = parse_lowercase_uuid(id);
    REQUIRE(bytes);
    CHECK((*bytes)[0] == 0x0f);
    CHECK((*bytes)[15] == 0xff);
    CHECK(format_lowercase_uuid(*bytes) == id);
    CHECK_FALSE(parse_lowercase_uuid("0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0FF"));  // uppercase
    CHECK_FALSE(parse_lowercase_uuid("0f1e2d3c4b5a49788695a4b3c2d1e0ff"));      // no dashes
    CHECK_FALSE(parse_lowercase_uuid("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f"));   // short
    CHECK_FALSE(parse_lowercase_uuid("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0fg"));  // not hex
    CHECK_FALSE(parse_lowercase_uuid("0f1e2d3c-4b5a-4978-8695a-4b3c2d1e0ff"));  // dash moved
    CHECK_FALSE(parse_lowercase_uuid(""));
}
