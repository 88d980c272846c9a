// Cryptographic primitives, all from OpenSSL: randomness (RAND_bytes), SHA-256 digests,
// constant-time comparison and UUID v4. Nothing here keeps state (beyond the SHA-256 and
// SHA-1 implementations, fetched from OpenSSL once per process).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tka::crypto {

// `n` bytes from OpenSSL's CSPRNG. Throws std::runtime_error if the RNG fails.
std::string random_bytes(std::size_t n);

// `n` characters drawn uniformly (rejection sampling) from `alphabet`.
std::string random_string(std::size_t n, std::string_view alphabet);

// Raw 32-byte SHA-256 digest, the same 32 bytes as a string (how Redis stores it), and its
// lowercase hex form.
std::array<std::uint8_t, 32> sha256(std::string_view data);
std::string sha256_bytes(std::string_view data);
std::string sha256_hex(std::string_view data);

// Lowercase hex of HMAC-SHA-256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// True when a and b are equal; time depends only on the lengths, not the contents.
bool constant_time_equal(std::string_view a, std::string_view b);

// A random RFC 4122 version-4 UUID in lowercase canonical form (36 chars).
std::string uuid_v4();

// Base64url without padding (RFC 4648 §5).
std::string base64url(std::string_view bytes);
// The bytes of a base64url text as base64url() writes it (no padding, unused bits zero),
// or nullopt for anything else.
std::optional<std::string> base64url_decode(std::string_view text);

// The value of one hex digit (either case), or -1 for any other character.
int hex_digit_value(char c);

// Lowercase hex of arbitrary bytes.
std::string hex(std::string_view bytes);

// Lowercase hex SHA-1, used only to name Lua scripts for EVALSHA.
std::string sha1_hex(std::string_view data);

}  // namespace tka::crypto
