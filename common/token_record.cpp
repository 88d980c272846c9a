// Packing of the compact layout's values (see token_record.hpp). Big-endian u32 times, as
// Lua's struct.pack('>I4') writes them.
#include "common/token_record.hpp"

#include <algorithm>

#include "common/crypto.hpp"

namespace tka::layout {
namespace {

constexpr std::string_view kOrgPrefix = "org_";
constexpr std::size_t kOrgSuffixChars = 12;

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

void put_u32(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>((v >> 24) & 0xff));
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t get_u32(std::string_view s, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v = (v << 8) | static_cast<unsigned char>(s[at + i]);
    }
    return v;
}

}  // namespace

std::optional<std::string> unhex(std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]);
        const int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

std::string hex(std::string_view bytes) {
    return crypto::hex(bytes);
}

std::optional<std::string> token_id_bytes(std::string_view uuid) {
    if (uuid.size() != 36 || uuid[8] != '-' || uuid[13] != '-' || uuid[18] != '-' ||
        uuid[23] != '-') {
        return std::nullopt;
    }
    std::string digits;
    digits.reserve(32);
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        if (i != 8 && i != 13 && i != 18 && i != 23) {
            digits.push_back(uuid[i]);
        }
    }
    return unhex(digits);
}

std::string token_id_text(std::string_view bytes) {
    const std::string h = crypto::hex(bytes);
    if (h.size() != 32) {
        return h;
    }
    std::string out;
    out.reserve(36);
    out.append(h, 0, 8).append("-").append(h, 8, 4).append("-").append(h, 12, 4);
    out.append("-").append(h, 16, 4).append("-").append(h, 20, 12);
    return out;
}

std::uint32_t bucket_index(std::string_view raw, unsigned bits) {
    if (bits == 0 || raw.size() < 3) {
        return 0;
    }
    const std::uint32_t top20 =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(raw[0])) << 12) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(raw[1])) << 4) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(raw[2])) >> 4);
    return top20 >> (kMaxBucketBits - bits);
}

std::int64_t StoredRecord::ttl() const {
    return static_cast<std::int64_t>(expires_at) -
           static_cast<std::int64_t>(std::max(created_at, refreshed_at));
}

bool StoredRecord::gone(std::int64_t now, std::int64_t retention) const {
    return static_cast<std::int64_t>(expires_at) + retention <= now;
}

std::string encode_record(const StoredRecord& r) {
    std::string out;
    out.reserve(kRecordBytes);
    out.push_back(r.status);
    put_u32(out, r.created_at);
    put_u32(out, r.expires_at);
    put_u32(out, r.refreshed_at);
    out.append(r.digest);
    out.append(r.user);
    return out;
}

std::optional<StoredRecord> decode_record(std::string_view v) {
    if (v.size() != kRecordBytes) {
        return std::nullopt;
    }
    StoredRecord r;
    r.status = v[0];
    if (r.status != kActive && r.status != kRevoked && r.status != kReplaced) {
        return std::nullopt;
    }
    r.created_at = get_u32(v, 1);
    r.expires_at = get_u32(v, 5);
    r.refreshed_at = get_u32(v, 9);
    r.digest = std::string(v.substr(13, kDigestBytes));
    r.user = std::string(v.substr(13 + kDigestBytes, kUserIdBytes));
    return r;
}

std::string status_text(const StoredRecord& r, std::int64_t now) {
    switch (r.status) {
        case kRevoked:
            return "revoked";
        case kReplaced:
            return "replaced";
        default:
            return static_cast<std::int64_t>(r.expires_at) <= now ? "expired" : "active";
    }
}

std::string encode_password_entry(const PasswordEntry& e) {
    std::string out = e.token;
    out.append(e.user);
    out.push_back(static_cast<char>(e.generation));
    return out;
}

std::optional<PasswordEntry> decode_password_entry(std::string_view v) {
    if (v.size() != kTokenIdBytes + kUserIdBytes + 1) {
        return std::nullopt;
    }
    PasswordEntry e;
    e.token = std::string(v.substr(0, kTokenIdBytes));
    e.user = std::string(v.substr(kTokenIdBytes, kUserIdBytes));
    e.generation = static_cast<unsigned char>(v.back());
    if (e.generation > kMaxBucketBits) {
        return std::nullopt;
    }
    return e;
}

std::string encode_location_prefix(std::string_view org_id, std::string_view user_raw) {
    std::string out(org_id.substr(std::min(org_id.size(), kOrgPrefix.size())));
    out.append(user_raw);
    return out;
}

std::string encode_location(const TokenLocation& l) {
    std::string out = encode_location_prefix(l.org_id, l.user);
    out.push_back(static_cast<char>(l.generation));
    return out;
}

std::optional<TokenLocation> decode_location(std::string_view v) {
    if (v.size() != kOrgSuffixChars + kUserIdBytes + 1) {
        return std::nullopt;
    }
    TokenLocation l;
    l.org_id = std::string(kOrgPrefix);
    l.org_id.append(v.substr(0, kOrgSuffixChars));
    l.user = std::string(v.substr(kOrgSuffixChars, kUserIdBytes));
    l.generation = static_cast<unsigned char>(v.back());
    if (l.generation > kMaxBucketBits) {
        return std::nullopt;
    }
    return l;
}

}  // namespace tka::layout
