// Owns the cryptographic primitives declared in crypto.hpp: CSPRNG bytes and unbiased random
// strings (RAND_bytes + rejection sampling), SHA-256 / SHA-1 digests through EVP, HMAC-SHA-256
// through EVP_MAC, constant-time comparison (CRYPTO_memcmp), UUID v4, base64url and hex.
// Every per-call OpenSSL object is held by a unique_ptr with its free function, so no path
// leaks one; the two digest implementations are fetched once and freed at exit / unload.
#include "common/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <optional>
#include <stdexcept>

namespace tka::crypto {
namespace {

struct MdFree {
    void operator()(EVP_MD* p) const { EVP_MD_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct MacFree {
    void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct MacCtxFree {
    void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using MacPtr = std::unique_ptr<EVP_MAC, MacFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

constexpr char kHexDigits[] = "0123456789abcdef";

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// The digest implementations, fetched from the default provider once per process. Passing
// EVP_sha256() to EVP_DigestInit_ex instead makes OpenSSL 3 fetch the implementation again
// on every call (a provider lookup under a lock: ~1.2 us of the ~1.9 us of hashing a
// token password, measured with bench/digest_bench). Fetched objects are immutable and
// shared safely between threads. They are freed by a static destructor: at exit (before
// OpenSSL's own cleanup, which was registered earlier, during the first fetch) or when the
// plugin .so is unloaded. If the fetch failed, the legacy handle is used (same result).
using MdPtr = std::unique_ptr<EVP_MD, MdFree>;

const EVP_MD* sha256_md() {
    static const MdPtr md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    return md ? md.get() : EVP_sha256();
}

const EVP_MD* sha1_md() {
    static const MdPtr md(EVP_MD_fetch(nullptr, "SHA1", nullptr));
    return md ? md.get() : EVP_sha1();
}

// Digest of `data` with `md` into `out`, which must hold EVP_MD_get_size(md) bytes.
void digest(const EVP_MD* md, std::string_view data, unsigned char* out) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
        throw std::runtime_error("OpenSSL digest failed");
    }
}

}  // namespace

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    std::size_t done = 0;
    while (done < n) {
        // RAND_bytes takes an int length; large requests are served in chunks.
        const std::size_t chunk = std::min<std::size_t>(n - done, INT_MAX);
        if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done),
                       static_cast<int>(chunk)) != 1) {
            throw std::runtime_error("OpenSSL RAND_bytes failed");
        }
        done += chunk;
    }
    return out;
}

std::string random_string(std::size_t n, std::string_view alphabet) {
    if (alphabet.empty() || alphabet.size() > 256) {
        throw std::invalid_argument("random_string: alphabet must have 1..256 characters");
    }
    // Accept a random byte only below the largest multiple of the alphabet size that fits in
    // 256, so that `byte % size` is uniform (rejection sampling, no modulo bias).
    const std::size_t size = alphabet.size();
    const std::size_t limit = 256 - (256 % size);
    std::string out;
    out.reserve(n);
    while (out.size() < n) {
        // Over-draw a little: at most half of the bytes are rejected (limit > 128).
        const std::string pool = random_bytes((n - out.size()) * 2 + 8);
        for (const char c : pool) {
            const auto byte = static_cast<std::size_t>(static_cast<unsigned char>(c));
            if (byte >= limit) {
                continue;
            }
            out.push_back(alphabet[byte % size]);
            if (out.size() == n) {
                break;
            }
        }
    }
    return out;
}

std::array<std::uint8_t, 32> sha256(std::string_view data) {
    std::array<std::uint8_t, 32> out{};
    digest(sha256_md(), data, out.data());
    return out;
}

std::string sha256_bytes(std::string_view data) {
    const auto d = sha256(data);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string sha256_hex(std::string_view data) {
    const auto d = sha256(data);
    return hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    MacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
    if (!mac) {
        throw std::runtime_error("OpenSSL HMAC unavailable");
    }
    MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx) {
        throw std::runtime_error("OpenSSL EVP_MAC_CTX_new failed");
    }
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end()};
    // A null key pointer means "keep the previous key" to EVP_MAC_init; an empty key must
    // still be a real (zero-length) key, so point at a dummy byte.
    static const unsigned char kEmpty = 0;
    const unsigned char* key_ptr = key.empty() ? &kEmpty : bytes_of(key);
    std::array<unsigned char, 32> out{};
    std::size_t out_len = 0;
    if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), bytes_of(data), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) != 1 || out_len != out.size()) {
        throw std::runtime_error("OpenSSL HMAC-SHA-256 failed");
    }
    return hex(std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    // The length is not secret (callers compare fixed-size digests); only the contents are.
    if (a.size() != b.size()) {
        return false;
    }
    if (a.empty()) {
        return true;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string uuid_v4() {
    std::string b = random_bytes(16);
    b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0fU) | 0x40U);  // version 4
    b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3fU) | 0x80U);  // RFC 4122
    const std::string h = hex(b);
    std::string out;
    out.reserve(36);
    out.append(h, 0, 8).append(1, '-');
    out.append(h, 8, 4).append(1, '-');
    out.append(h, 12, 4).append(1, '-');
    out.append(h, 16, 4).append(1, '-');
    out.append(h, 20, 12);
    return out;
}

std::string base64url(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    auto at = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
    };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
        out.push_back(kAlphabet[(v >> 18) & 0x3f]);
        out.push_back(kAlphabet[(v >> 12) & 0x3f]);
        out.push_back(kAlphabet[(v >> 6) & 0x3f]);
        out.push_back(kAlphabet[v & 0x3f]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = at(i) << 16;
        out.push_back(kAlphabet[(v >> 18) & 0x3f]);
        out.push_back(kAlphabet[(v >> 12) & 0x3f]);
    } else if (rest == 2) {
        const std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
        out.push_back(kAlphabet[(v >> 18) & 0x3f]);
        out.push_back(kAlphabet[(v >> 12) & 0x3f]);
        out.push_back(kAlphabet[(v >> 6) & 0x3f]);
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    // A length of 1 mod 4 cannot come from any byte string; the other remainders carry 1
    // or 2 bytes whose unused low bits must be zero (the canonical form base64url() makes).
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : text) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '-') {
            v = 62;
        } else if (c == '_') {
            v = 63;
        } else {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xff));
        }
    }
    if ((bits & ((1u << count) - 1)) != 0) {
        return std::nullopt;  // non-zero padding bits: not what base64url() writes
    }
    return out;
}

int hex_digit_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string hex(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out.push_back(kHexDigits[b >> 4]);
        out.push_back(kHexDigits[b & 0x0f]);
    }
    return out;
}

std::string sha1_hex(std::string_view data) {
    std::array<unsigned char, 20> out{};
    digest(sha1_md(), data, out.data());
    return hex(std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
}

}  // namespace tka::crypto
