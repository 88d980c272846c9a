// Unit tests of common/identifiers: the generated forms of DESIGN.md ("Identifiers"), the
// strict validators (tables of good and bad inputs), user id derivation, e-mail
// normalisation and MQTT username parsing.
#include "common/identifiers.hpp"

#include "common/crypto.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace tka::ids;

TEST_CASE("new_org_id has the documented form", "[ids]") {
    for (int i = 0; i < 50; ++i) {
        const std::string id = new_org_id();
        REQUIRE(id.size() == 16);
        REQUIRE(id.starts_with("org_"));
        REQUIRE(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789", 4) ==
                std::string::npos);
        REQUIRE(is_org_id(id));
    }
}

TEST_CASE("is_org_id accepts exactly org_ + 12 of [a-z0-9]", "[ids]") {
    auto [input, valid] = GENERATE(table<std::string, bool>({
        {"org_k7xm4pqr2n5t", true},
        {"org_000000000000", true},
        {"org_abcdefghijkl", true},
        {"org_k7xm4pqr2n5", false},    // 11 chars
        {"org_k7xm4pqr2n5tt", false},  // 13 chars
        {"org_K7XM4PQR2N5T", false},   // uppercase
        {"ORG_k7xm4pqr2n5t", false},
        {"org-k7xm4pqr2n5t", false},
        {"org_k7xm4pqr2n_t", false},
        {"org_k7xm4pqr2n-t", false},
        {"org_k7xm4pqr2n5 ", false},
        {"org_k7xm4pqr2n:t", false},
        {"org_k7xm4pqr2n}t", false},
        {" org_k7xm4pqr2n5t", false},
        {"org_", false},
        {"", false},
        {"k7xm4pqr2n5t", false},
        {std::string("org_k7xm4pqr2n5\0", 16), false},
    }));
    CAPTURE(input);
    CHECK(is_org_id(input) == valid);
}

TEST_CASE("new_secret_key is sk_ + 43 base62 characters", "[ids]") {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        const std::string key = new_secret_key();
        REQUIRE(key.size() == 46);
        REQUIRE(key.starts_with("sk_"));
        REQUIRE(key.find_first_not_of(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 3) ==
                std::string::npos);
        REQUIRE(is_secret_key(key));
        REQUIRE_FALSE(is_legacy_secret_key(key));
        seen.insert(key);
    }
    CHECK(seen.size() == 50);
}

TEST_CASE("is_secret_key and is_legacy_secret_key", "[ids]") {
    auto [input, secret, legacy] = GENERATE(table<std::string, bool, bool>({
        {"sk_" + std::string(32, 'a'), true, false},
        {"sk_" + std::string(43, 'Z'), true, false},
        {"sk_AbC0123456789xyzXYZ0123456789abcd", true, false},
        {"sk_" + std::string(253, '9'), true, false},   // 256 in all
        {"sk_" + std::string(254, '9'), false, false},  // 257 in all
        {"sk_" + std::string(31, 'a'), false, false},   // too short
        {"sk_" + std::string(31, 'a') + "-", false, false},
        {"sk_" + std::string(31, 'a') + "_", false, false},
        {"sk_" + std::string(31, 'a') + "!", false, false},
        {"sk_" + std::string(31, 'a') + "\xc3\xa9", false, false},
        {"SK_" + std::string(32, 'a'), false, false},
        {"sk-" + std::string(32, 'a'), false, false},
        {"cs_" + std::string(16, 'a'), true, true},
        {"cs_abcDEF012_-xyzQR", true, true},
        {"cs_" + std::string(253, '-'), true, true},
        {"cs_" + std::string(254, 'a'), false, false},
        {"cs_" + std::string(15, 'a'), false, false},
        {"cs_" + std::string(15, 'a') + "+", false, false},
        {"cs_" + std::string(15, 'a') + "/", false, false},
        {"cs_" + std::string(15, 'a') + "=", false, false},
        {"tkn_" + std::string(43, 'a'), false, false},
        {"", false, false},
        {"sk_", false, false},
        {"cs_", false, false},
    }));
    CAPTURE(input);
    CHECK(is_secret_key(input) == secret);
    CHECK(is_legacy_secret_key(input) == legacy);
}

TEST_CASE("new_key_id has the documented form", "[ids]") {
    const std::string id = new_key_id();
    CHECK(id.size() == 16);
    CHECK(id.starts_with("key_"));
    CHECK(is_key_id(id));
    CHECK(new_key_id() != id);
}

TEST_CASE("is_key_id accepts exactly key_ + 12 of [a-z0-9]", "[ids]") {
    auto [input, valid] = GENERATE(table<std::string, bool>({
        {"key_abcdefghij01", true},
        {"key_abcdefghij0", false},
        {"key_abcdefghij012", false},
        {"key_ABCDEFGHIJ01", false},
        {"key_abcdefghij0_", false},
        {"org_abcdefghij01", false},
        {"", false},
    }));
    CAPTURE(input);
    CHECK(is_key_id(input) == valid);
}

TEST_CASE("new_token_password is tkn_ + 43 base64url characters", "[ids]") {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        const std::string pw = new_token_password();
        REQUIRE(pw.size() == 47);
        REQUIRE(pw.starts_with("tkn_"));
        REQUIRE(pw.find_first_not_of(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4) ==
                std::string::npos);
        REQUIRE(is_token_password(pw));
        seen.insert(pw);
    }
    CHECK(seen.size() == 50);
}

TEST_CASE("is_token_password accepts tkn_ + 43..128 of [A-Za-z0-9_-]", "[ids]") {
    auto [input, valid] = GENERATE(table<std::string, bool>({
        {"tkn_" + std::string(43, 'a'), true},
        {"tkn_" + std::string(128, 'Z'), true},
        {"tkn_" + std::string(20, '-') + std::string(23, '_'), true},
        {"tkn_" + std::string(42, 'a'), false},
        {"tkn_" + std::string(129, 'a'), false},
        {"tkn_" + std::string(42, 'a') + "=", false},
        {"tkn_" + std::string(42, 'a') + "+", false},
        {"tkn_" + std::string(42, 'a') + "/", false},
        {"tkn_" + std::string(42, 'a') + " ", false},
        {"TKN_" + std::string(43, 'a'), false},
        {"tkn-" + std::string(43, 'a'), false},
        {"sk_" + std::string(44, 'a'), false},
        {"", false},
    }));
    CAPTURE(input);
    CHECK(is_token_password(input) == valid);
}

TEST_CASE("new_token_id is a valid token id", "[ids]") {
    const std::string id = new_token_id();
    CHECK(is_token_id(id));
    CHECK(new_token_id() != id);
}

TEST_CASE("is_token_id accepts only lowercase canonical UUID v4", "[ids]") {
    auto [input, valid] = GENERATE(table<std::string, bool>({
        {"3f2504e0-4f89-41d3-9a0c-0305e82c3301", true},
        {"00000000-0000-4000-8000-000000000000", true},
        {"ffffffff-ffff-4fff-bfff-ffffffffffff", true},
        {"3f2504e0-4f89-41d3-aa0c-0305e82c3301", true},
        {"3f2504e0-4f89-41d3-ba0c-0305e82c3301", true},
        {"3F2504E0-4F89-41D3-9A0C-0305E82C3301", false},  // uppercase
        {"3f2504e0-4f89-11d3-9a0c-0305e82c3301", false},  // version 1
        {"3f2504e0-4f89-51d3-9a0c-0305e82c3301", false},  // version 5
        {"3f2504e0-4f89-41d3-7a0c-0305e82c3301", false},  // NCS variant
        {"3f2504e0-4f89-41d3-ca0c-0305e82c3301", false},  // Microsoft variant
        {"3f2504e04f8941d39a0c0305e82c3301", false},      // no dashes
        {"{3f2504e0-4f89-41d3-9a0c-0305e82c3301}", false},
        {"3f2504e0-4f89-41d3-9a0c-0305e82c330", false},
        {"3f2504e0-4f89-41d3-9a0c-0305e82c33011", false},
        {"3f2504e0_4f89-41d3-9a0c-0305e82c3301", false},
        {"3f2504e0-4f8941d3-9a0c--0305e82c3301", false},
        {"3f2504g0-4f89-41d3-9a0c-0305e82c3301", false},
        {"", false},
    }));
    CAPTURE(input);
    CHECK(is_token_id(input) == valid);
}

TEST_CASE("derive_user_id is the first 24 hex chars of HMAC-SHA-256(salt, email)", "[ids]") {
    const std::string id = derive_user_id("salt-1", "alice@example.com");
    // Computed independently (Python hmac module).
    CHECK(id == "399bc46e0cc4c8c7c7e192b5");
    CHECK(id == tka::crypto::hmac_sha256_hex("salt-1", "alice@example.com").substr(0, 24));
    CHECK(is_user_id(id));
    // Stable per (salt, e-mail); differs across salts (organizations) and e-mails.
    CHECK(derive_user_id("salt-1", "alice@example.com") == id);
    CHECK(derive_user_id("salt-2", "alice@example.com") != id);
    CHECK(derive_user_id("salt-1", "bob@example.com") != id);
    // Not the e-mail in any readable form.
    CHECK(id.find("alice") == std::string::npos);
}

TEST_CASE("is_user_id accepts 12..64 of [a-z0-9]", "[ids]") {
    auto [input, valid] = GENERATE(table<std::string, bool>({
        {"399bc46e0cc4c8c7c7e192b5", true},
        {std::string(12, 'a'), true},
        {std::string(64, '0'), true},
        {"abcdefghijklmnopqrstuvwxyz", true},
        {std::string(11, 'a'), false},
        {std::string(65, 'a'), false},
        {"399BC46E0CC4C8C7C7E192B5", false},
        {"399bc46e0cc4-8c7c7e192b5", false},
        {"399bc46e0cc4_8c7c7e192b5", false},
        {"399bc46e0cc4@8c7c7e192b5", false},
        {"399bc46e0cc4 8c7c7e192b5", false},
        {"399bc46e0cc4{8c7c7e192b5", false},
        {"", false},
    }));
    CAPTURE(input);
    CHECK(is_user_id(input) == valid);
}

TEST_CASE("normalise_email trims, lowercases and accepts plausible addresses", "[ids]") {
    auto [input, expected] = GENERATE(table<std::string, std::string>({
        {"user@example.com", "user@example.com"},
        {"User@Example.COM", "user@example.com"},
        {"  alice@example.com  ", "alice@example.com"},
        {"\t\r\nalice@example.com\n\v\f", "alice@example.com"},
        {"first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"},
        {"o'brien@example.ie", "o'brien@example.ie"},
        {"a@b.c", "a@b.c"},
        {"x_y-z!#$%&*=?^`{|}~@ex-ample.org", "x_y-z!#$%&*=?^`{|}~@ex-ample.org"},
        {"1@123.456", "1@123.456"},
        {std::string(64, 'l') + "@example.com", std::string(64, 'l') + "@example.com"},
        // 254 characters in all: 64 + 1 + 189
        {std::string(64, 'l') + "@" + std::string(185, 'd') + ".com",
         std::string(64, 'l') + "@" + std::string(185, 'd') + ".com"},
    }));
    CAPTURE(input);
    const auto out = normalise_email(input);
    REQUIRE(out.has_value());
    CHECK(*out == expected);
    // Idempotent.
    CHECK(normalise_email(*out) == out);
}

TEST_CASE("normalise_email rejects implausible addresses", "[ids]") {
    const std::string input = GENERATE(
        as<std::string>{}, "", "   ", "plainaddress", "@example.com", "user@", "user@@example.com",
        "a@b@example.com", "user@localhost", "user@example", "user@.example.com",
        "user@example.com.", "user@example..com", "user@-example.com", "user@example-.com",
        "user@exa_mple.com", "user@exa mple.com", "user@example.c*m", "user@[127.0.0.1]",
        "us er@example.com", "\"user\"@example.com", "us\"er@example.com", "user<@example.com",
        "user>@example.com", "us(er@example.com", "us)er@example.com", "us,er@example.com",
        "us;er@example.com", "us:er@example.com", "us\\er@example.com", "us[er@example.com",
        "us]er@example.com", "us\ter@example.com",
        "us\x7f"
        "er@example.com",
        "us\x01"
        "er@example.com",
        "j\xc3\xbcrgen@example.com", "user@exampl\xc3\xa9.com",
        std::string(65, 'l') + "@example.com",
        std::string(64, 'l') + "@" + std::string(186, 'd') + ".com",  // 255 in all
        std::string("user\0@example.com", 17));
    CAPTURE(input);
    CHECK_FALSE(normalise_email(input).has_value());
}

TEST_CASE("normalised e-mails give one user id per address", "[ids]") {
    const auto a = normalise_email(" Alice@Example.com ");
    const auto b = normalise_email("alice@example.COM");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(derive_user_id("salt", *a) == derive_user_id("salt", *b));
}

TEST_CASE("format_username and parse_username round trip", "[ids]") {
    const std::string user = derive_user_id("salt", "alice@example.com");
    const std::string org = "org_k7xm4pqr2n5t";
    const std::string username = format_username(user, org);
    CHECK(username == user + "@org_k7xm4pqr2n5t");
    const auto parsed = parse_username(username);
    REQUIRE(parsed.has_value());
    CHECK(parsed->user_id == user);
    CHECK(parsed->org_id == org);
}

TEST_CASE("parse_username accepts only user_id@org_id", "[ids]") {
    auto [input, user, org] = GENERATE(table<std::string, std::string, std::string>({
        {"399bc46e0cc4c8c7c7e192b5@org_k7xm4pqr2n5t", "399bc46e0cc4c8c7c7e192b5",
         "org_k7xm4pqr2n5t"},
        {"abcdefghijkl@org_000000000000", "abcdefghijkl", "org_000000000000"},
        {std::string(64, 'z') + "@org_abcdefghijkl", std::string(64, 'z'), "org_abcdefghijkl"},
        // Split on the last '@': the left half must then be a valid user id on its own.
        {"399bc46e0cc4c8c7c7e192b5@org_k7xm4pqr2n5t@org_k7xm4pqr2n5t", "", ""},
        {"alice@example.com", "", ""},
        {"399bc46e0cc4c8c7c7e192b5", "", ""},
        {"399bc46e0cc4c8c7c7e192b5@", "", ""},
        {"@org_k7xm4pqr2n5t", "", ""},
        {"399bc46e0cc4c8c7c7e192b5@org_K7XM4PQR2N5T", "", ""},
        {"399BC46E0CC4C8C7C7E192B5@org_k7xm4pqr2n5t", "", ""},
        {"shortid@org_k7xm4pqr2n5t", "", ""},
        {std::string(65, 'z') + "@org_abcdefghijkl", "", ""},
        {"399bc46e0cc4c8c7c7e192b5@org_k7xm4pqr2n5", "", ""},
        {"399bc46e0cc4c8c7c7e192b5@org_k7xm4pqr2n5tx", "", ""},
        {"399bc46e0cc4c8c7c7e192b5 @org_k7xm4pqr2n5t", "", ""},
        {"399bc46e0cc4c8c7c7e192b5@ org_k7xm4pqr2n5t", "", ""},
        {"399bc46e0cc4c8c7c7e192b5@org_k7xm4pqr2n5t ", "", ""},
        {"tka:{org}:x@org_k7xm4pqr2n5t", "", ""},
        {"", "", ""},
        {"@", "", ""},
    }));
    CAPTURE(input);
    const auto parsed = parse_username(input);
    if (user.empty()) {
        CHECK_FALSE(parsed.has_value());
    } else {
        REQUIRE(parsed.has_value());
        CHECK(parsed->user_id == user);
        CHECK(parsed->org_id == org);
    }
}
