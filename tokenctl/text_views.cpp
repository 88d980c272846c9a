// Human-readable output of tokenctl (see text_views.hpp).
#include "tokenctl/text_views.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/identifiers.hpp"
#include "common/time_format.hpp"
#include "tokenctl/table.hpp"

namespace tka::tokenctl {

namespace {

std::string on_off(bool on) {
    return on ? "on" : "off";
}

std::string ttl_text(std::int64_t ttl) {
    return fmt::format("{} s ({})", ttl, human_duration(ttl));
}

}  // namespace

std::string human_duration(std::int64_t seconds) {
    struct Unit {
        std::int64_t seconds;
        const char* suffix;
    };
    static constexpr Unit kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    if (seconds <= 0) {
        return "0s";
    }
    std::string text;
    for (const auto& unit : kUnits) {
        if (seconds >= unit.seconds) {
            if (!text.empty()) {
                text += ' ';
            }
            text += fmt::format("{}{}", seconds / unit.seconds, unit.suffix);
            seconds %= unit.seconds;
        }
    }
    return text;
}

void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields) {
    std::size_t width = 0;
    for (const auto& field : fields) {
        width = std::max(width, field.first.size());
    }
    for (const auto& [name, value] : fields) {
        out << fmt::format("{:<{}}  {}\n", name, width, printable(value));
    }
}

std::vector<std::pair<std::string, std::string>> org_fields(const Organization& org) {
    return {
        {"organization_id", org.org_id},
        {"name", org.name},
        {"token_auth", on_off(org.token_auth)},
        {"ttl", ttl_text(org.ttl)},
        {"created_at", format_rfc3339(org.created_at)},
    };
}

void print_org(std::ostream& out, const Organization& org) {
    print_fields(out, org_fields(org));
}

void print_orgs(std::ostream& out, const std::vector<Organization>& orgs) {
    if (orgs.empty()) {
        out << "no organizations\n";
        return;
    }
    Table table({"ORGANIZATION", "NAME", "TOKEN AUTH", "TTL", "CREATED"});
    for (const auto& org : orgs) {
        table.add_row({org.org_id, org.name, on_off(org.token_auth), human_duration(org.ttl),
                       format_rfc3339(org.created_at)});
    }
    table.print(out);
}

void print_keys(std::ostream& out, const std::vector<SecretKeyInfo>& keys) {
    if (keys.empty()) {
        out << "no secret keys\n";
        return;
    }
    Table table({"KEY ID", "PREFIX", "KIND", "CREATED"});
    for (const auto& key : keys) {
        // Keys stored before prefixes were kept have none: "-".
        table.add_row({key.key_id, key.prefix.empty() ? "-" : key.prefix,
                       key.legacy ? "legacy cs_" : "sk_", format_rfc3339(key.created_at)});
    }
    table.print(out);
}

void print_tokens(std::ostream& out, const std::vector<TokenRecord>& tokens) {
    if (tokens.empty()) {
        out << "no tokens\n";
        return;
    }
    Table table({"TOKEN ID", "E-MAIL", "STATUS", "CREATED", "EXPIRES", "USERNAME"});
    for (const auto& token : tokens) {
        table.add_row({token.token_id, token.email, token.status, format_rfc3339(token.created_at),
                       format_rfc3339(token.expires_at),
                       ids::format_username(token.user_id, token.org_id)});
    }
    table.print(out);
}

void print_admins(std::ostream& out, const std::vector<AdminInfo>& admins) {
    if (admins.empty()) {
        out << "no admin accounts\n";
        return;
    }
    Table table({"NAME", "CREATED", "PASSWORD CHANGED"});
    for (const auto& admin : admins) {
        table.add_row({admin.name, format_rfc3339(admin.created_at),
                       format_rfc3339(admin.password_changed_at)});
    }
    table.print(out);
}

}  // namespace tka::tokenctl
