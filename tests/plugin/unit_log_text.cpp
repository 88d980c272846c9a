// Client text in log lines: bounded, escaped, cut at a character boundary.
#include <catch2/catch.hpp>

#include <string>

#include "plugin/log_text.hpp"

using tka::plugin::kMaxLoggedClientText;
using tka::plugin::loggable;

TEST_CASE("log text: ordinary text is unchanged", "[plugin][log]") {
    CHECK(loggable("alice-phone") == "alice-phone");
    CHECK(loggable("9f1c0000-0000-4000-8000-000000000000@org_k7xm4pqr2n5t") ==
          "9f1c0000-0000-4000-8000-000000000000@org_k7xm4pqr2n5t");
    CHECK(loggable("") == "");
    CHECK(loggable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");  // UTF-8 kept
}

TEST_CASE("log text: control characters, quotes and broken UTF-8 are escaped", "[plugin][log]") {
    CHECK(loggable("a\nb") == "a\\x0ab");
    CHECK(loggable(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(loggable("\x1b[31m") == "\\x1b[31m");
    CHECK(loggable("x\x7f") == "x\\x7f");
    CHECK(loggable("it's") == "it\\'s");
    CHECK(loggable("a\\b") == "a\\\\b");
    CHECK(loggable("\xff\xfe") == "\\xff\\xfe");
    CHECK(loggable("\xc3") == "\\xc3");                    // truncated sequence
    CHECK(loggable("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
    CHECK(loggable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // surrogate
}

TEST_CASE("log text: long text is cut with its length", "[plugin][log]") {
    const std::string long_name(5000, 'u');
    const std::string out = loggable(long_name);
    CHECK(out == std::string(kMaxLoggedClientText, 'u') + "\xe2\x80\xa6(5000 bytes)");

    CHECK(loggable(std::string(kMaxLoggedClientText, 'x')) ==
          std::string(kMaxLoggedClientText, 'x'));  // exactly the bound: not cut

    // Escapes count with their length and are never split.
    const std::string newlines(100, '\n');
    const std::string cut = loggable(newlines);
    CHECK(cut.size() <= kMaxLoggedClientText + 20);
    CHECK(cut.rfind("\\x0a\xe2\x80\xa6(100 bytes)") == cut.size() - 18);

    // A multi-byte character is never split.
    std::string euros;
    for (int i = 0; i < 200; ++i) {
        euros += "\xe2\x82\xac";
    }
    const std::string e = loggable(euros, 10);
    CHECK(e.substr(0, 30) == euros.substr(0, 30));
    CHECK(e.substr(30) == "\xe2\x80\xa6(600 bytes)");
}
