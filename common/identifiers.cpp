// Owns the identifiers of DESIGN.md ("Identifiers"): generation of organization ids, secret
// keys, key ids, token passwords and token ids; derivation of user ids; e-mail normalisation;
// and the strict validators that keep malformed input out of Redis key names.
#include "common/identifiers.hpp"

#include "common/crypto.hpp"

#include <algorithm>

namespace tka::ids {
namespace {

constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kBase62 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

constexpr std::string_view kOrgPrefix = "org_";
constexpr std::string_view kSecretPrefix = "sk_";
constexpr std::string_view kLegacySecretPrefix = "cs_";
constexpr std::string_view kKeyPrefix = "key_";
constexpr std::string_view kTokenPrefix = "tkn_";

constexpr std::size_t kOrgIdChars = 12;
constexpr std::size_t kKeyIdChars = 12;
constexpr std::size_t kNewSecretChars = 43;        // 43 * log2(62) ~ 256 bits
constexpr std::size_t kMinSecretChars = 32;        // sk_ keys
constexpr std::size_t kMinLegacySecretChars = 16;  // cs_ keys
constexpr std::size_t kMaxSecretKeyLength = 256;   // whole key, prefix included
constexpr std::size_t kTokenRandomBytes = 32;
constexpr std::size_t kMinTokenChars = 43;
constexpr std::size_t kMaxTokenChars = 128;
constexpr std::size_t kUserIdChars = 24;  // derived ids
constexpr std::size_t kMinUserIdChars = 12;
constexpr std::size_t kMaxUserIdChars = 64;
constexpr std::size_t kMaxLocalPart = 64;
constexpr std::size_t kMaxEmail = 254;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_lower_alnum(char c) {
    return is_lower(c) || is_digit(c);
}
bool is_alnum(char c) {
    return is_lower(c) || is_upper(c) || is_digit(c);
}
bool is_base64url(char c) {
    return is_alnum(c) || c == '-' || c == '_';
}
bool is_lower_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

template <typename Pred>
bool all_of(std::string_view s, Pred pred) {
    return std::all_of(s.begin(), s.end(), pred);
}

// `prefix` followed by min..max characters that all satisfy `pred`.
template <typename Pred>
bool prefixed(std::string_view s, std::string_view prefix, std::size_t min, std::size_t max,
              Pred pred) {
    if (!s.starts_with(prefix)) {
        return false;
    }
    const std::string_view rest = s.substr(prefix.size());
    return rest.size() >= min && rest.size() <= max && all_of(rest, pred);
}

bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ascii_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ascii_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// Printable ASCII without space, double quote and the RFC 5322 specials <>(),;:\[]
// ('@' is excluded by the caller, which requires exactly one).
bool is_local_part_char(char c) {
    if (c <= ' ' || c > '~') {
        return false;
    }
    constexpr std::string_view kForbidden = "\"<>(),;:\\[]";
    return kForbidden.find(c) == std::string_view::npos;
}

// Labels of [a-z0-9-], non-empty, not starting or ending with '-'; at least two labels.
bool is_plausible_domain(std::string_view domain) {
    if (domain.find('.') == std::string_view::npos) {
        return false;
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = domain.find('.', start);
        const std::string_view label = domain.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || label.front() == '-' || label.back() == '-' ||
            !all_of(label, [](char c) { return is_lower_alnum(c) || c == '-'; })) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        start = dot + 1;
    }
}

}  // namespace

std::string new_org_id() {
    return std::string(kOrgPrefix) + crypto::random_string(kOrgIdChars, kLowerAlnum);
}

bool is_org_id(std::string_view s) {
    return prefixed(s, kOrgPrefix, kOrgIdChars, kOrgIdChars, is_lower_alnum);
}

std::string new_secret_key() {
    return std::string(kSecretPrefix) + crypto::random_string(kNewSecretChars, kBase62);
}

bool is_secret_key(std::string_view s) {
    if (s.size() > kMaxSecretKeyLength) {
        return false;
    }
    return prefixed(s, kSecretPrefix, kMinSecretChars, kMaxSecretKeyLength, is_alnum) ||
           is_legacy_secret_key(s);
}

bool is_legacy_secret_key(std::string_view s) {
    return s.size() <= kMaxSecretKeyLength &&
           prefixed(s, kLegacySecretPrefix, kMinLegacySecretChars, kMaxSecretKeyLength,
                    is_base64url);
}

std::string new_key_id() {
    return std::string(kKeyPrefix) + crypto::random_string(kKeyIdChars, kLowerAlnum);
}

bool is_key_id(std::string_view s) {
    return prefixed(s, kKeyPrefix, kKeyIdChars, kKeyIdChars, is_lower_alnum);
}

std::string new_token_password() {
    return std::string(kTokenPrefix) + crypto::base64url(crypto::random_bytes(kTokenRandomBytes));
}

bool is_token_password(std::string_view s) {
    return prefixed(s, kTokenPrefix, kMinTokenChars, kMaxTokenChars, is_base64url);
}

std::string new_token_id() {
    return crypto::uuid_v4();
}

bool is_token_id(std::string_view s) {
    // xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lowercase hex.
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_position ? s[i] != '-' : !is_lower_hex(s[i])) {
            return false;
        }
    }
    return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

std::string derive_user_id(std::string_view user_salt, std::string_view normalised_email) {
    return crypto::hmac_sha256_hex(user_salt, normalised_email).substr(0, kUserIdChars);
}

bool is_user_id(std::string_view s) {
    return s.size() >= kMinUserIdChars && s.size() <= kMaxUserIdChars && all_of(s, is_lower_alnum);
}

std::optional<std::string> normalise_email(std::string_view email) {
    const std::string_view trimmed = trim(email);
    if (trimmed.empty() || trimmed.size() > kMaxEmail) {
        return std::nullopt;
    }
    std::string out(trimmed);
    for (char& c : out) {
        if (is_upper(c)) {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    const std::size_t at = out.find('@');
    if (at == std::string::npos || out.find('@', at + 1) != std::string::npos) {
        return std::nullopt;
    }
    const std::string_view view(out);
    const std::string_view local = view.substr(0, at);
    const std::string_view domain = view.substr(at + 1);
    if (local.empty() || local.size() > kMaxLocalPart || !all_of(local, is_local_part_char) ||
        !is_plausible_domain(domain)) {
        return std::nullopt;
    }
    return out;
}

std::string format_username(std::string_view user_id, std::string_view org_id) {
    std::string out;
    out.reserve(user_id.size() + 1 + org_id.size());
    out.append(user_id).append(1, '@').append(org_id);
    return out;
}

std::optional<Username> parse_username(std::string_view username) {
    const std::size_t at = username.rfind('@');
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view user_id = username.substr(0, at);
    const std::string_view org_id = username.substr(at + 1);
    if (!is_user_id(user_id) || !is_org_id(org_id)) {
        return std::nullopt;
    }
    return Username{std::string(user_id), std::string(org_id)};
}

}  // namespace tka::ids
