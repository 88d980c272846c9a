// Unit tests of common/password_hash: scrypt hashes of admin passwords, their stored form,
// and a verifier that says "no" (never throws) to anything malformed or out of bounds.
// Small parameters keep the tests fast, except where the defaults are the point.
#include "common/password_hash.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "common/crypto.hpp"

using tka::hash_password;
using tka::ScryptParams;
using tka::verify_password;

namespace {

const ScryptParams kFast{4, 8, 1};

}  // namespace

TEST_CASE("the default parameters are stored with the hash and verify", "[password_hash]") {
    const std::string stored = hash_password("correct horse battery staple");
    CHECK(stored.rfind("scrypt$15$8$1$", 0) == 0);
    CHECK(stored.find("correct horse") == std::string::npos);
    CHECK(verify_password("correct horse battery staple", stored));
    CHECK_FALSE(verify_password("correct horse battery stapl", stored));
}

TEST_CASE("round trip, wrong password, a fresh salt each time", "[password_hash]") {
    const std::string a = hash_password("s3cret", kFast);
    const std::string b = hash_password("s3cret", kFast);
    CHECK(a != b);
    CHECK(verify_password("s3cret", a));
    CHECK(verify_password("s3cret", b));
    CHECK_FALSE(verify_password("S3cret", a));
    CHECK_FALSE(verify_password("", a));
    CHECK(verify_password("", hash_password("", kFast)));
    // Salt and hash are base64url of 16 and 32 bytes.
    const auto salt_at = std::string("scrypt$4$8$1$").size();
    const auto dollar = a.find('$', salt_at);
    REQUIRE(dollar != std::string::npos);
    CHECK(tka::crypto::base64url_decode(a.substr(salt_at, dollar - salt_at))->size() == 16);
    CHECK(tka::crypto::base64url_decode(a.substr(dollar + 1))->size() == 32);
}

TEST_CASE("the parameters are read from the stored string", "[password_hash]") {
    const std::string stored = hash_password("pw", ScryptParams{10, 8, 1});
    CHECK(stored.rfind("scrypt$10$8$1$", 0) == 0);
    CHECK(verify_password("pw", stored));
    // The same salt and hash under other parameters do not match.
    std::string other = stored;
    other.replace(0, std::string("scrypt$10").size(), "scrypt$11");
    CHECK_FALSE(verify_password("pw", other));
}

TEST_CASE("tampered or malformed stored strings are a mismatch, never an exception",
          "[password_hash]") {
    const std::string good = hash_password("pw", kFast);
    std::string flipped = good;
    flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
    const auto last_dollar = good.rfind('$');
    const std::string salt_and_hash = good.substr(std::string("scrypt$4$8$1$").size());
    const std::string stored = GENERATE_COPY(
        as<std::string>{}, std::string(), "scrypt", "scrypt$$$$$", good.substr(0, last_dollar),
        good + "$", flipped, "bcrypt" + good.substr(6), "scrypt$4$8$1$!!!!$" + salt_and_hash,
        "scrypt$x$8$1$" + salt_and_hash, "scrypt$-4$8$1$" + salt_and_hash,
        "scrypt$0$8$1$" + salt_and_hash, "scrypt$21$8$1$" + salt_and_hash,
        "scrypt$4$0$1$" + salt_and_hash, "scrypt$4$8$0$" + salt_and_hash,
        "scrypt$4$64$2$" + salt_and_hash, "scrypt$20$64$1$" + salt_and_hash,
        "scrypt$4$8$1$AA$" + good.substr(last_dollar + 1), good.substr(0, last_dollar + 1) + "A",
        good + "=");
    INFO(stored);
    CHECK_NOTHROW(verify_password("pw", stored));
    CHECK_FALSE(verify_password("pw", stored));
}

TEST_CASE("hashing refuses parameters it could not verify", "[password_hash]") {
    CHECK_THROWS_AS(hash_password("pw", ScryptParams{21, 8, 1}), std::invalid_argument);
    CHECK_THROWS_AS(hash_password("pw", ScryptParams{4, 0, 1}), std::invalid_argument);
}

TEST_CASE("the dummy hash is a real hash that no password guessed here matches",
          "[password_hash]") {
    const std::string& dummy = tka::dummy_password_hash();
    CHECK(&dummy == &tka::dummy_password_hash());  // computed once
    CHECK(dummy.rfind("scrypt$15$8$1$", 0) == 0);
    CHECK_FALSE(verify_password("", dummy));
    CHECK_FALSE(verify_password("admin", dummy));
}

TEST_CASE("base64url_decode inverts base64url and refuses anything else", "[crypto]") {
    for (std::size_t n = 0; n < 40; ++n) {
        const std::string bytes = tka::crypto::random_bytes(n);
        const auto text = tka::crypto::base64url(bytes);
        INFO(n << " " << text);
        REQUIRE(tka::crypto::base64url_decode(text) == bytes);
    }
    CHECK(tka::crypto::base64url_decode("-_8") == std::string("\xfb\xff", 2));
    CHECK_FALSE(tka::crypto::base64url_decode("A"));      // 1 mod 4
    CHECK_FALSE(tka::crypto::base64url_decode("AB"));     // unused bits not zero
    CHECK_FALSE(tka::crypto::base64url_decode("AA=="));   // padding is not written
    CHECK_FALSE(tka::crypto::base64url_decode("AA+/"));   // standard alphabet
    CHECK_FALSE(tka::crypto::base64url_decode("A A A"));  // white space
}
