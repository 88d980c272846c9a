// Fuzz target for the CONNECT credentials the plugin sees first: plugin/credentials.hpp's
// classify() and the identifier validators of common/identifiers.hpp it rests on. The input
// is "<username>\n<password>" (split at the first newline; without one, the whole input is
// the username and the password is also tried as absent). Beyond "no crash, no leak, no
// undefined behaviour", it checks:
//   - a missing username or password is never ours;
//   - `ours` means a "@org_" username and a "tkn_" password, and ids that are valid and
//     round-trip: format_username(user_id, org_id) is the username byte for byte;
//   - `malformed_username` means the same shape with a username that does not parse, and
//     `not_ours` means the shape is missing; neither carries ids;
//   - ours vs malformed agrees with an oracle written here from the documented forms
//     (identifiers.hpp: user id 12..64 of [a-z0-9], org id org_ + 12 of [a-z0-9]);
//   - every validator (token password, org id, user id, token id, key id, secret keys)
//     agrees with its own oracle, on the username, the password and the whole input;
//   - normalise_email() is idempotent and yields a trimmed, lowercase address with one '@';
//   - parse_username() and format_username() round-trip; derive_user_id() yields a user id.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/identifiers.hpp"
#include "fuzz/fuzz_check.hpp"
#include "plugin/credentials.hpp"

namespace {

namespace ids = tka::ids;
using tka::plugin::classify;
using tka::plugin::Credentials;
using Kind = Credentials::Kind;

// --- Oracles: the documented forms, written without the library's helpers -----------------

bool lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool alnum(char c) {
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool base64url(char c) {
    return alnum(c) || c == '-' || c == '_';
}
bool lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// `prefix` then between `min` and `max` characters, each accepted by `ok`.
template <typename Ok>
bool form(std::string_view s, std::string_view prefix, std::size_t min, std::size_t max, Ok ok) {
    if (s.size() < prefix.size() || s.compare(0, prefix.size(), prefix) != 0) {
        return false;
    }
    const std::size_t n = s.size() - prefix.size();
    if (n < min || n > max) {
        return false;
    }
    for (std::size_t i = prefix.size(); i < s.size(); ++i) {
        if (!ok(s[i])) {
            return false;
        }
    }
    return true;
}

bool oracle_org_id(std::string_view s) {
    return form(s, "org_", 12, 12, lower_alnum);
}
bool oracle_user_id(std::string_view s) {
    return form(s, "", 12, 64, lower_alnum);
}
bool oracle_token_password(std::string_view s) {
    return form(s, "tkn_", 43, 128, base64url);
}
bool oracle_key_id(std::string_view s) {
    return form(s, "key_", 12, 12, lower_alnum);
}
bool oracle_legacy_secret_key(std::string_view s) {
    return s.size() <= 256 && form(s, "cs_", 16, 253, base64url);
}
bool oracle_secret_key(std::string_view s) {
    return (s.size() <= 256 && form(s, "sk_", 32, 253, alnum)) || oracle_legacy_secret_key(s);
}
// Lowercase canonical UUID v4: 8-4-4-4-12 hex, version 4, variant 8/9/a/b.
bool oracle_token_id(std::string_view s) {
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < 36; ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (s[i] == '-') || (!dash && !lower_hex(s[i]))) {
            return false;
        }
    }
    return s[14] == '4' && std::string_view("89ab").find(s[19]) != std::string_view::npos;
}
// "user_id@org_id": the last '@' splits it, as an org id holds none.
bool oracle_username(std::string_view s) {
    const std::size_t at = s.rfind('@');
    return at != std::string_view::npos && oracle_user_id(s.substr(0, at)) &&
           oracle_org_id(s.substr(at + 1));
}

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != std::string_view::npos;
}
bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// --- Properties -------------------------------------------------------------------------

void check_validators(std::string_view s) {
    TKA_FUZZ_CHECK(ids::is_token_password(s) == oracle_token_password(s));
    TKA_FUZZ_CHECK(ids::is_org_id(s) == oracle_org_id(s));
    TKA_FUZZ_CHECK(ids::is_user_id(s) == oracle_user_id(s));
    TKA_FUZZ_CHECK(ids::is_token_id(s) == oracle_token_id(s));
    TKA_FUZZ_CHECK(ids::is_key_id(s) == oracle_key_id(s));
    TKA_FUZZ_CHECK(ids::is_secret_key(s) == oracle_secret_key(s));
    TKA_FUZZ_CHECK(ids::is_legacy_secret_key(s) == oracle_legacy_secret_key(s));

    const auto parsed = ids::parse_username(s);
    TKA_FUZZ_CHECK(parsed.has_value() == oracle_username(s));
    if (parsed) {
        TKA_FUZZ_CHECK(ids::format_username(parsed->user_id, parsed->org_id) == s);
    }

    if (const auto email = ids::normalise_email(s)) {
        TKA_FUZZ_CHECK(!email->empty() && email->size() <= 254);
        TKA_FUZZ_CHECK(email->find('@') != std::string::npos &&
                       email->find('@') == email->rfind('@'));
        for (const char c : *email) {
            TKA_FUZZ_CHECK(c > ' ' && c <= '~' && !(c >= 'A' && c <= 'Z'));
        }
        TKA_FUZZ_CHECK(ids::normalise_email(*email) == email);  // idempotent
    }
}

void check_absent_is_not_ours(std::optional<std::string_view> username,
                              std::optional<std::string_view> password) {
    const Credentials c = classify(username, password);
    TKA_FUZZ_CHECK(c.kind == Kind::not_ours);
    TKA_FUZZ_CHECK(c.user_id.empty() && c.org_id.empty());
}

void check_classify(std::string_view username, std::string_view password) {
    check_absent_is_not_ours(std::nullopt, password);
    check_absent_is_not_ours(username, std::nullopt);
    check_absent_is_not_ours(std::nullopt, std::nullopt);

    const Credentials c = classify(username, password);
    const bool shape = contains(username, "@org_") && starts_with(password, "tkn_");
    switch (c.kind) {
        case Kind::ours:
            TKA_FUZZ_CHECK(shape);
            TKA_FUZZ_CHECK(oracle_username(username));
            TKA_FUZZ_CHECK(oracle_user_id(c.user_id) && oracle_org_id(c.org_id));
            TKA_FUZZ_CHECK(ids::format_username(c.user_id, c.org_id) == username);
            break;
        case Kind::malformed_username:
            TKA_FUZZ_CHECK(shape);
            TKA_FUZZ_CHECK(!oracle_username(username));
            TKA_FUZZ_CHECK(c.user_id.empty() && c.org_id.empty());
            break;
        case Kind::not_ours:
            TKA_FUZZ_CHECK(!shape);
            TKA_FUZZ_CHECK(c.user_id.empty() && c.org_id.empty());
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t newline = input.find('\n');
    const std::string_view username = input.substr(0, newline);
    const std::string_view password =
        newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

    check_classify(username, password);
    check_validators(username);
    check_validators(password);
    check_validators(input);

    // A derived user id is always a valid one, whatever the salt and e-mail.
    TKA_FUZZ_CHECK(oracle_user_id(ids::derive_user_id(password, username)));
    return 0;
}
