// The compact token layout's values (docs/redis-layout.md): how a token record, a password
// index entry and a token index entry are packed into at most 64 bytes each, so that the
// bucket hashes holding them stay listpack-encoded under Redis's default
// hash-max-listpack-value. The Lua scripts pack and unpack the same bytes with
// `struct.pack('>c1I4I4I4c32c12', ...)`; this is the C++ side, used by TokenStore, the
// plugin's replica sync, the bulk loader and `tokenctl migrate`. Also the raw forms of the
// identifiers these values hold, and which bucket an identifier falls into.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tka::layout {

// Bucket generations: a bucket index is the first `bits` bits of a uniform identifier
// (user id or password digest), bits in 0..kMaxBucketBits. An org's `bits` grows by one
// when its record count exceeds kRecordsPerBucket * 2^bits.
inline constexpr unsigned kMaxBucketBits = 20;
inline constexpr std::int64_t kRecordsPerBucket = 32;

inline constexpr std::size_t kTokenIdBytes = 16;
inline constexpr std::size_t kUserIdBytes = 12;
inline constexpr std::size_t kDigestBytes = 32;
inline constexpr std::size_t kRecordBytes = 1 + 3 * 4 + kDigestBytes + kUserIdBytes;  // 57

// Record status bytes.
inline constexpr char kActive = 'a';
inline constexpr char kRevoked = 'r';
inline constexpr char kReplaced = 'p';

// Lowercase hex <-> bytes; nullopt for odd length or a non-hex character.
std::optional<std::string> unhex(std::string_view hex);
std::string hex(std::string_view bytes);
// Canonical UUID text (36 chars) <-> its 16 bytes; nullopt when not a UUID.
std::optional<std::string> token_id_bytes(std::string_view uuid);
std::string token_id_text(std::string_view bytes);

// The bucket of an identifier's raw bytes (at least 3) in generation `bits`.
std::uint32_t bucket_index(std::string_view raw, unsigned bits);

// A token record as stored in its user bucket (field: the 16 token id bytes).
struct StoredRecord {
    char status = kActive;
    std::uint32_t created_at = 0;
    std::uint32_t expires_at = 0;
    std::uint32_t refreshed_at = 0;  // 0: never refreshed
    std::string digest;              // 32 raw bytes of SHA-256(password)
    std::string user;                // 12 raw bytes of the user id
    // The TTL the token got at its last create or refresh.
    std::int64_t ttl() const;
    // Gone: past expires_at + retention, as if Redis had expired it (sweeps delete it).
    bool gone(std::int64_t now, std::int64_t retention) const;
};
std::string encode_record(const StoredRecord& record);
std::optional<StoredRecord> decode_record(std::string_view value);
// "active" | "revoked" | "replaced" | "expired" (active but past expires_at).
std::string status_text(const StoredRecord& record, std::int64_t now);

// Password index entry (field: the 32 digest bytes): the token and where its record is.
struct PasswordEntry {
    std::string token;  // 16 raw bytes
    std::string user;   // 12 raw bytes
    unsigned generation = 0;
};
std::string encode_password_entry(const PasswordEntry& entry);
std::optional<PasswordEntry> decode_password_entry(std::string_view value);

// Token index entry (global, field: the 16 token id bytes): the org and where the record is.
struct TokenLocation {
    std::string org_id;  // org_ + 12 chars
    std::string user;    // 12 raw bytes
    unsigned generation = 0;
};
// The value without its trailing generation byte (the create script appends it).
std::string encode_location_prefix(std::string_view org_id, std::string_view user_raw);
std::string encode_location(const TokenLocation& location);
std::optional<TokenLocation> decode_location(std::string_view value);

}  // namespace tka::layout
