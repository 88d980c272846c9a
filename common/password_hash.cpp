// scrypt password hashes for the dashboard's accounts (see password_hash.hpp). The stored
// string is parsed defensively: it comes from Redis, so anything malformed or asking for
// absurd work is simply "no match", never an exception or an 8 GiB allocation.
#include "common/password_hash.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "common/crypto.hpp"
#include "common/parse_int.hpp"

namespace tka {
namespace {

constexpr std::string_view kScheme = "scrypt";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
// Bounds on what a stored string may ask for (parameters can be raised within them).
constexpr std::int64_t kMaxLog2N = 20;
constexpr std::int64_t kMaxRTimesP = 64;
constexpr std::uint64_t kMaxMemoryBytes = 256ULL << 20;
constexpr std::size_t kMinStoredBytes = 8;  // shortest salt or hash accepted
constexpr std::size_t kMaxStoredBytes = 64;

struct Parsed {
    ScryptParams params;
    std::string salt;
    std::string hash;
};

// scrypt's working memory (128 r N bytes for V, 128 r p for B), the figure OpenSSL checks
// against maxmem.
std::uint64_t memory_needed(const ScryptParams& p) {
    return 128ULL * p.r * (std::uint64_t{1} << p.log2_n) + 128ULL * p.r * p.p;
}

bool sane(const ScryptParams& p) {
    return p.log2_n >= 1 && p.log2_n <= kMaxLog2N && p.r >= 1 && p.p >= 1 &&
           static_cast<std::int64_t>(p.r) * p.p <= kMaxRTimesP &&
           memory_needed(p) <= kMaxMemoryBytes;
}

// The derived key of `password`, or nullopt when OpenSSL refuses (never for sane params).
std::optional<std::string> scrypt(std::string_view password, std::string_view salt,
                                  const ScryptParams& p, std::size_t length) {
    std::string out(length, '\0');
    // maxmem leaves room above the working memory for OpenSSL's own bookkeeping.
    const std::uint64_t maxmem = memory_needed(p) + (1ULL << 20);
    if (EVP_PBE_scrypt(password.data(), password.size(),
                       reinterpret_cast<const unsigned char*>(salt.data()), salt.size(),
                       std::uint64_t{1} << p.log2_n, p.r, p.p, maxmem,
                       reinterpret_cast<unsigned char*>(out.data()), out.size()) != 1) {
        return std::nullopt;
    }
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    for (;;) {
        const auto at = s.find(sep);
        parts.push_back(s.substr(0, at));
        if (at == std::string_view::npos) {
            return parts;
        }
        s.remove_prefix(at + 1);
    }
}

std::optional<std::string> decoded_field(std::string_view text) {
    auto bytes = crypto::base64url_decode(text);
    if (!bytes || bytes->size() < kMinStoredBytes || bytes->size() > kMaxStoredBytes) {
        return std::nullopt;
    }
    return bytes;
}

std::optional<Parsed> parse(std::string_view stored) {
    const auto parts = split(stored, '$');
    if (parts.size() != 6 || parts[0] != kScheme) {
        return std::nullopt;
    }
    const auto log2_n = parse_int(parts[1], 1, kMaxLog2N);
    const auto r = parse_int(parts[2], 1, kMaxRTimesP);
    const auto p = parse_int(parts[3], 1, kMaxRTimesP);
    auto salt = decoded_field(parts[4]);
    auto hash = decoded_field(parts[5]);
    if (!log2_n || !r || !p || !salt || !hash) {
        return std::nullopt;
    }
    Parsed parsed;
    parsed.params = {static_cast<unsigned>(*log2_n), static_cast<unsigned>(*r),
                     static_cast<unsigned>(*p)};
    if (!sane(parsed.params)) {
        return std::nullopt;
    }
    parsed.salt = std::move(*salt);
    parsed.hash = std::move(*hash);
    return parsed;
}

}  // namespace

std::string hash_password(std::string_view password, const ScryptParams& params) {
    if (!sane(params)) {
        throw std::invalid_argument("hash_password: scrypt parameters out of bounds");
    }
    const std::string salt = crypto::random_bytes(kSaltBytes);
    const auto hash = scrypt(password, salt, params, kHashBytes);
    if (!hash) {
        throw std::runtime_error("OpenSSL scrypt failed");
    }
    return fmt::format("{}${}${}${}${}${}", kScheme, params.log2_n, params.r, params.p,
                       crypto::base64url(salt), crypto::base64url(*hash));
}

bool verify_password(std::string_view password, std::string_view stored) {
    const auto parsed = parse(stored);
    if (!parsed) {
        return false;
    }
    const auto hash = scrypt(password, parsed->salt, parsed->params, parsed->hash.size());
    return hash && crypto::constant_time_equal(*hash, parsed->hash);
}

const std::string& dummy_password_hash() {
    static const std::string dummy = hash_password(crypto::base64url(crypto::random_bytes(24)));
    return dummy;
}

}  // namespace tka
