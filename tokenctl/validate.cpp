// Argument validation for tokenctl (see validate.hpp).
#include "tokenctl/validate.hpp"

#include <fmt/format.h>
#include <charconv>

#include "common/display_name.hpp"
#include "common/identifiers.hpp"
#include "common/org_store.hpp"
#include "tokenctl/request.hpp"

namespace tka::tokenctl {

namespace {

constexpr std::size_t kMaxQuotedBytes = 64;

bool printable_ascii(std::string_view s) {
    for (char c : s) {
        if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string quoted(std::string_view s) {
    if (s.size() <= kMaxQuotedBytes && printable_ascii(s)) {
        return fmt::format("'{}'", s);
    }
    return "(unprintable or too long)";
}

std::string checked_org_id(std::string_view s) {
    if (!ids::is_org_id(s)) {
        throw UsageError(fmt::format(
            "invalid organization id {}: expected org_ followed by 12 lowercase letters or digits",
            quoted(s)));
    }
    return std::string(s);
}

std::string checked_key_id(std::string_view s) {
    if (!ids::is_key_id(s)) {
        throw UsageError(fmt::format(
            "invalid key id {}: expected key_ followed by 12 lowercase letters or digits",
            quoted(s)));
    }
    return std::string(s);
}

std::string checked_token_id(std::string_view s) {
    if (!ids::is_token_id(s)) {
        throw UsageError(
            fmt::format("invalid token id {}: expected a lowercase UUID v4", quoted(s)));
    }
    return std::string(s);
}

std::string checked_org_name(std::string_view s) {
    if (auto problem = display_name_problem(s, kMaxOrgNameBytes)) {
        throw UsageError(fmt::format("invalid --name: {}", *problem));
    }
    return std::string(s);
}

std::string checked_admin_name(std::string_view what, std::string_view s) {
    if (auto problem = display_name_problem(s, kMaxAdminNameBytes)) {
        throw UsageError(fmt::format("invalid {}: {}", what, *problem));
    }
    return std::string(s);
}

std::int64_t checked_ttl(std::string_view s) {
    std::int64_t value = 0;
    const char* first = s.data();
    const char* last = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (s.empty() || ec != std::errc() || ptr != last || value < kMinTtlSeconds ||
        value > kMaxTtlSeconds) {
        throw UsageError(
            fmt::format("--ttl must be a whole number of seconds from {} to {} (30 days), got {}",
                        kMinTtlSeconds, kMaxTtlSeconds, quoted(s)));
    }
    return value;
}

bool checked_on_off(std::string_view flag, std::string_view s) {
    if (s == "on") {
        return true;
    }
    if (s == "off") {
        return false;
    }
    throw UsageError(fmt::format("{} must be 'on' or 'off', got {}", flag, quoted(s)));
}

std::string checked_email(std::string_view s) {
    auto normalised = ids::normalise_email(s);
    if (!normalised) {
        throw UsageError(fmt::format("invalid e-mail address {}", quoted(s)));
    }
    return *normalised;
}

std::string checked_legacy_key(std::string_view s) {
    if (!ids::is_legacy_secret_key(s)) {
        throw UsageError(
            "key import expects a legacy secret key: cs_ followed by at least 16 of "
            "[A-Za-z0-9_-] (new sk_ keys come from 'key create')");
    }
    return std::string(s);
}

}  // namespace tka::tokenctl
