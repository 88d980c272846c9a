// Unit tests of common/display_name: the one rule for organization and admin names. Each
// class of refused input gets its sentence (code point and byte offset, never the name),
// and the names people really use (accents, CJK, emoji, markup characters) pass.
#include "common/display_name.hpp"

#include <catch2/catch.hpp>

#include <string>

using tka::display_name_problem;

namespace {

// The sentence for `name` (which must be refused), checked never to quote the name.
std::string problem(const std::string& name, std::size_t max_bytes = tka::kMaxOrgNameBytes) {
    const auto why = display_name_problem(name, max_bytes);
    REQUIRE(why.has_value());
    INFO(*why);
    CHECK(why->find('\n') == std::string::npos);
    if (name.size() >= 3) {
        CHECK(why->find(name) == std::string::npos);
    }
    return *why;
}

}  // namespace

TEST_CASE("names people use are accepted", "[display_name]") {
    const std::string name = GENERATE(
        as<std::string>{}, "Acme", "x", "Société Générale", "Ærøskøbing Fähre", "東京電力",
        "株式会社 テスト", "Rocket 🚀 Labs", "<b>&\"'", "a  b", "İstanbul", "עברית", "العربية");
    INFO(name);
    CHECK_FALSE(display_name_problem(name, tka::kMaxOrgNameBytes).has_value());
}

TEST_CASE("length is counted in bytes, 1..max", "[display_name]") {
    CHECK(problem("") == "the name is empty");
    CHECK_FALSE(display_name_problem(std::string(64, 'a'), 64).has_value());
    CHECK(problem(std::string(65, 'a'), 64) ==
          "the name is 65 bytes long, longer than the limit of 64 bytes");
    // 22 three-byte characters are 66 bytes.
    std::string cjk;
    for (int i = 0; i < 22; ++i) {
        cjk += "東";
    }
    CHECK(problem(cjk, 64).find("66 bytes") != std::string::npos);
}

TEST_CASE("control characters are refused: C0, DEL, C1 including U+0085", "[display_name]") {
    CHECK(problem(std::string("ab\0c", 4)) ==
          "the name contains a control character (U+0000) at byte offset 2");
    CHECK(problem("a\nb") == "the name contains a control character (U+000A) at byte offset 1");
    CHECK(problem("a\tb") == "the name contains a control character (U+0009) at byte offset 1");
    CHECK(problem("a\x1b[31mb") ==
          "the name contains a control character (U+001B) at byte offset 1");
    CHECK(problem("ab\x7f") == "the name contains a control character (U+007F) at byte offset 2");
    CHECK(problem("ab\xc2\x85") ==
          "the name contains a control character (U+0085) at byte offset 2");
    CHECK(problem("\xc2\x80x") ==
          "the name contains a control character (U+0080) at byte offset 0");
    CHECK(problem("x\xc2\x9f") ==
          "the name contains a control character (U+009F) at byte offset 1");
}

TEST_CASE("line and paragraph separators are refused", "[display_name]") {
    CHECK(problem("a\xe2\x80\xa8"
                  "b") ==
          "the name contains a line or paragraph separator (U+2028) at byte offset 1");
    CHECK(problem("a\xe2\x80\xa9"
                  "b") ==
          "the name contains a line or paragraph separator (U+2029) at byte offset 1");
}

TEST_CASE("bidirectional formatting characters are refused, U+202E above all", "[display_name]") {
    CHECK(problem("evil\xe2\x80\xaetxt.exe") ==
          "the name contains a bidirectional formatting character (U+202E) at byte offset 4");
    const std::string encoded =
        GENERATE(as<std::string>{}, "\xd8\x9c", "\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xaa",
                 "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x81\xa6", "\xe2\x81\xa7",
                 "\xe2\x81\xa8", "\xe2\x81\xa9");
    CHECK(problem("ab" + encoded + "cd").find("bidirectional formatting character") !=
          std::string::npos);
    // Neighbours of the refused ranges are ordinary characters.
    CHECK_FALSE(
        display_name_problem("a\xe2\x80\x90"
                             "b",
                             64));  // U+2010 HYPHEN
    CHECK_FALSE(
        display_name_problem("a\xe2\x81\xa0"
                             "b",
                             64));  // U+2060 WORD JOINER is not bidi formatting
}

TEST_CASE("invalid UTF-8 is refused with the byte offset", "[display_name]") {
    CHECK(problem("a\xc0\xaf") ==
          "the name is not valid UTF-8: an overlong encoding at byte offset 1");
    CHECK(problem("\xe0\x80\xafzz") ==
          "the name is not valid UTF-8: an overlong encoding at byte offset 0");
    CHECK(problem("ab\x80") ==
          "the name is not valid UTF-8: a continuation byte without a lead byte at byte "
          "offset 2");
    CHECK(problem("a\xed\xa0\x80") ==
          "the name is not valid UTF-8: an encoded surrogate at byte offset 1");
    CHECK(problem("a\xe2\x82") ==
          "the name is not valid UTF-8: a truncated multi-byte sequence at byte offset 1");
    CHECK(problem("\xe2\x82z") ==
          "the name is not valid UTF-8: a truncated multi-byte sequence at byte offset 0");
    CHECK(problem("a\xf4\x90\x80\x80") ==
          "the name is not valid UTF-8: a code point above U+10FFFF at byte offset 1");
    CHECK(problem("a\xff") ==
          "the name is not valid UTF-8: a byte that never occurs in UTF-8 at byte offset 1");
    // The largest code point and the first above the surrogates are fine.
    CHECK_FALSE(display_name_problem("a\xf4\x8f\xbf\xbf", 64));
    CHECK_FALSE(display_name_problem("a\xee\x80\x80", 64));
}

TEST_CASE("no white space at either end", "[display_name]") {
    CHECK(problem(" Acme") == "the name begins with white space");
    CHECK(problem("Acme ") == "the name ends with white space");
    CHECK(problem("\xc2\xa0"
                  "Acme") == "the name begins with white space");            // NO-BREAK SPACE
    CHECK(problem("Acme\xe3\x80\x80") == "the name ends with white space");  // IDEOGRAPHIC
    CHECK(problem(" ") == "the name begins with white space");
}
