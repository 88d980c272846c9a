// Unit tests of common/crypto: published test vectors (FIPS 180, RFC 4231, RFC 4648) and the
// observable properties of the random generators (length, alphabet, UUID version/variant).
#include "common/crypto.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <stdexcept>
#include <string>

using namespace tka::crypto;

namespace {

std::string from_hex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

}  // namespace

TEST_CASE("sha256_hex matches FIPS 180 test vectors", "[crypto]") {
    auto [input, expected] = GENERATE(table<std::string, std::string>({
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {std::string(1000000, 'a'),
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    }));
    CHECK(sha256_hex(input) == expected);
    const auto raw = sha256(input);
    CHECK(hex(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size())) == expected);
}

TEST_CASE("sha256 is binary safe", "[crypto]") {
    const std::string with_nul("a\0b", 3);
    CHECK(sha256_hex(with_nul) != sha256_hex("a"));
    CHECK(sha256_hex(with_nul) != sha256_hex("ab"));
    CHECK(sha256_hex(with_nul) == sha256_hex(std::string("a\0b", 3)));
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test vectors", "[crypto]") {
    auto [key, data, expected] = GENERATE(table<std::string, std::string, std::string>({
        // Test case 1
        {std::string(20, '\x0b'), "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        // Test case 2
        {"Jefe", "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        // Test case 3
        {std::string(20, '\xaa'), std::string(50, '\xdd'),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        // Test case 4
        {from_hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        // Test case 6: key longer than the block size
        {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        // Test case 7: key and data longer than the block size
        {std::string(131, '\xaa'),
         "This is a test using a larger than block-size key and a larger than block-size "
         "data. The key needs to be hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    }));
    CHECK(hmac_sha256_hex(key, data) == expected);
}

TEST_CASE("hmac_sha256_hex accepts an empty key and empty data", "[crypto]") {
    // HMAC-SHA-256 with an empty key over empty data (a widely published value).
    CHECK(hmac_sha256_hex("", "") ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    CHECK(hmac_sha256_hex("", "x").size() == 64);
    CHECK(hmac_sha256_hex("k1", "data") != hmac_sha256_hex("k2", "data"));
}

TEST_CASE("sha1_hex matches FIPS 180 test vectors", "[crypto]") {
    auto [input, expected] = GENERATE(table<std::string, std::string>({
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    }));
    CHECK(sha1_hex(input) == expected);
}

TEST_CASE("base64url matches RFC 4648 vectors without padding", "[crypto]") {
    auto [input, expected] = GENERATE(table<std::string, std::string>({
        {"", ""},
        {"f", "Zg"},
        {"fo", "Zm8"},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg"},
        {"fooba", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy"},
        // Bytes whose standard encoding uses '+' and '/': url-safe '-' and '_' instead.
        {"\xfb\xff", "-_8"},
        {"\xfb\xff\xbf", "-_-_"},
        {std::string("\0\0\0", 3), "AAAA"},
        {"\xff\xff\xff", "____"},
    }));
    CHECK(base64url(input) == expected);
}

TEST_CASE("base64url of 32 bytes is 43 characters", "[crypto]") {
    const std::string out = base64url(random_bytes(32));
    CHECK(out.size() == 43);
    CHECK(
        out.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
}

TEST_CASE("hex is lowercase and covers every byte value", "[crypto]") {
    CHECK(hex("") == "");
    CHECK(hex(std::string("\x00\x01\x7f\x80\xfe\xff", 6)) == "00017f80feff");
    CHECK(hex("AZ") == "415a");
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all.push_back(static_cast<char>(i));
    }
    const std::string h = hex(all);
    REQUIRE(h.size() == 512);
    CHECK(h.substr(0, 6) == "000102");
    CHECK(h.substr(506) == "fdfeff");
    CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("constant_time_equal compares contents and lengths", "[crypto]") {
    auto [a, b, equal] = GENERATE(table<std::string, std::string, bool>({
        {"", "", true},
        {"abc", "abc", true},
        {"abc", "abd", false},
        {"abc", "xbc", false},
        {"abc", "ab", false},
        {"ab", "abc", false},
        {"", "a", false},
        {std::string("a\0b", 3), std::string("a\0c", 3), false},
        {std::string("a\0b", 3), std::string("a\0b", 3), true},
    }));
    CHECK(constant_time_equal(a, b) == equal);
    CHECK(constant_time_equal(b, a) == equal);
}

TEST_CASE("constant_time_equal on digests", "[crypto]") {
    CHECK(constant_time_equal(sha256_hex("secret"), sha256_hex("secret")));
    CHECK_FALSE(constant_time_equal(sha256_hex("secret"), sha256_hex("Secret")));
}

TEST_CASE("random_bytes returns the requested number of bytes", "[crypto]") {
    const std::size_t n = GENERATE(0U, 1U, 16U, 32U, 1000U);
    CHECK(random_bytes(n).size() == n);
}

TEST_CASE("random_bytes does not repeat itself", "[crypto]") {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        seen.insert(random_bytes(16));
    }
    CHECK(seen.size() == 100);
}

TEST_CASE("random_string draws only from the alphabet", "[crypto]") {
    const std::string alphabet =
        GENERATE(as<std::string>{}, "a", "01", "abcdefghijklmnopqrstuvwxyz0123456789",
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    const std::string s = random_string(500, alphabet);
    CHECK(s.size() == 500);
    CHECK(s.find_first_not_of(alphabet) == std::string::npos);
    CHECK(random_string(0, alphabet).empty());
}

TEST_CASE("random_string reaches every symbol of the alphabet", "[crypto]") {
    // 36 symbols, 5000 draws: the chance that a fair generator misses one is ~1e-59.
    const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    const std::string s = random_string(5000, alphabet);
    const std::set<char> seen(s.begin(), s.end());
    CHECK(seen.size() == alphabet.size());
}

TEST_CASE("random_string accepts a 256-symbol alphabet", "[crypto]") {
    std::string alphabet;
    for (int i = 0; i < 256; ++i) {
        alphabet.push_back(static_cast<char>(i));
    }
    CHECK(random_string(64, alphabet).size() == 64);
}

TEST_CASE("random_string rejects empty and oversized alphabets", "[crypto]") {
    CHECK_THROWS_AS(random_string(4, ""), std::invalid_argument);
    CHECK_THROWS_AS(random_string(4, std::string(257, 'a')), std::invalid_argument);
}

TEST_CASE("uuid_v4 is a lowercase canonical version-4 RFC 4122 UUID", "[crypto]") {
    for (int i = 0; i < 200; ++i) {
        const std::string u = uuid_v4();
        REQUIRE(u.size() == 36);
        for (std::size_t k = 0; k < u.size(); ++k) {
            if (k == 8 || k == 13 || k == 18 || k == 23) {
                REQUIRE(u[k] == '-');
            } else {
                REQUIRE(std::string_view("0123456789abcdef").find(u[k]) != std::string_view::npos);
            }
        }
        REQUIRE(u[14] == '4');                                                    // version nibble
        REQUIRE(std::string_view("89ab").find(u[19]) != std::string_view::npos);  // variant
    }
}

TEST_CASE("uuid_v4 values differ", "[crypto]") {
    std::set<std::string> seen;
    for (int i = 0; i < 500; ++i) {
        seen.insert(uuid_v4());
    }
    CHECK(seen.size() == 500);
}
