// Fuzz target for the lifecycle event parser (common/events.hpp, parse_event), which every
// broker runs on each entry of the Redis stream. The input is one stream entry as text: the
// first line is the entry id, every further line one field, "name=value" (split at the first
// '='; a line without one is a field with an empty value). Beyond "no crash, no leak, no
// undefined behaviour", it checks:
//   - the result agrees with an oracle written here from docs/events.md: which types exist,
//     which fields each needs, numbers in decimal (int64), token_auth "1" means on, a
//     revocation without a reason reads as "revoked";
//   - the order of the fields does not matter (when no field name repeats; the Lua scripts
//     never write one twice);
//   - a parsed event, written back as a stream entry in the documented layout, parses to the
//     same event.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/events.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using tka::Event;
using Fields = std::vector<std::pair<std::string, std::string>>;

// --- Oracle --------------------------------------------------------------------------------

// Optional '-', then one or more digits, within int64.
std::optional<std::int64_t> oracle_int(const std::string& s) {
    std::size_t i = 0;
    const bool negative = !s.empty() && s[0] == '-';
    if (negative) {
        i = 1;
    }
    if (i == s.size()) {
        return std::nullopt;
    }
    // Accumulate as a negative number: its range holds int64's minimum.
    std::int64_t v = 0;
    constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return std::nullopt;
        }
        const int digit = s[i] - '0';
        if (v < (kMin + digit) / 10) {
            return std::nullopt;
        }
        v = v * 10 - digit;
    }
    if (!negative) {
        if (v == kMin) {
            return std::nullopt;
        }
        v = -v;
    }
    return v;
}

const std::string* field(const Fields& fields, std::string_view name) {
    for (const auto& [n, v] : fields) {
        if (n == name) {
            return &v;
        }
    }
    return nullptr;
}

// docs/events.md, for entries whose field names are unique.
std::optional<Event> oracle_parse(const std::string& id, const Fields& fields) {
    const std::string* type = field(fields, "type");
    const std::string* org = field(fields, "org");
    if (type == nullptr || org == nullptr) {
        return std::nullopt;
    }
    Event e;
    e.id = id;
    e.org_id = *org;
    if (*type == "org.updated") {
        const std::string* auth = field(fields, "token_auth");
        const std::string* ttl = field(fields, "ttl");
        if (auth == nullptr || ttl == nullptr || !oracle_int(*ttl)) {
            return std::nullopt;
        }
        e.type = Event::Type::org_updated;
        e.token_auth = *auth == "1";
        e.ttl = *oracle_int(*ttl);
        return e;
    }
    const bool created = *type == "token.created";
    const bool refreshed = *type == "token.refreshed";
    const bool revoked = *type == "token.revoked";
    const std::string* token = field(fields, "token");
    const std::string* user = field(fields, "user");
    if (!(created || refreshed || revoked) || token == nullptr || user == nullptr) {
        return std::nullopt;
    }
    e.token_id = *token;
    e.user_id = *user;
    if (revoked) {
        const std::string* reason = field(fields, "reason");
        e.type = Event::Type::token_revoked;
        e.reason = reason != nullptr ? *reason : "revoked";
        return e;
    }
    const std::string* pw = field(fields, "pw");
    const std::string* exp = field(fields, "exp");
    if (pw == nullptr || exp == nullptr || !oracle_int(*exp)) {
        return std::nullopt;
    }
    e.type = created ? Event::Type::token_created : Event::Type::token_refreshed;
    e.password_digest = *pw;
    e.expires_at = *oracle_int(*exp);
    return e;
}

// --- The documented stream layout, as the Lua scripts write it ----------------------------

Fields serialise(const Event& e) {
    switch (e.type) {
        case Event::Type::token_created:
        case Event::Type::token_refreshed:
            return {{"type",
                     e.type == Event::Type::token_created ? "token.created" : "token.refreshed"},
                    {"org", e.org_id},
                    {"token", e.token_id},
                    {"user", e.user_id},
                    {"pw", e.password_digest},
                    {"exp", std::to_string(e.expires_at)}};
        case Event::Type::token_revoked:
            return {{"type", "token.revoked"},
                    {"org", e.org_id},
                    {"token", e.token_id},
                    {"user", e.user_id},
                    {"reason", e.reason}};
        case Event::Type::org_updated:
            return {{"type", "org.updated"},
                    {"org", e.org_id},
                    {"token_auth", e.token_auth ? "1" : "0"},
                    {"ttl", std::to_string(e.ttl)}};
    }
    return {};
}

// Equal in every field the event's type uses (the others keep their defaults).
bool same(const Event& a, const Event& b) {
    return a.id == b.id && a.type == b.type && a.org_id == b.org_id && a.token_id == b.token_id &&
           a.user_id == b.user_id && a.password_digest == b.password_digest &&
           a.expires_at == b.expires_at && a.reason == b.reason && a.token_auth == b.token_auth &&
           a.ttl == b.ttl;
}

bool same(const std::optional<Event>& a, const std::optional<Event>& b) {
    return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

bool names_unique(const Fields& fields) {
    std::set<std::string_view> names;
    for (const auto& [name, value] : fields) {
        if (!names.insert(name).second) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::size_t newline = input.find('\n');
    const std::string id(input.substr(0, newline));
    Fields fields;
    while (newline != std::string_view::npos) {
        const std::size_t start = newline + 1;
        newline = input.find('\n', start);
        const std::string_view line = input.substr(start, newline - start);
        const std::size_t eq = line.find('=');
        fields.emplace_back(
            std::string(line.substr(0, eq)),
            eq == std::string_view::npos ? std::string() : std::string(line.substr(eq + 1)));
    }

    const std::optional<Event> parsed = tka::parse_event(id, fields);

    if (names_unique(fields)) {
        TKA_FUZZ_CHECK(same(parsed, oracle_parse(id, fields)));
        const Fields reversed(fields.rbegin(), fields.rend());
        TKA_FUZZ_CHECK(same(parsed, tka::parse_event(id, reversed)));
    }
    if (parsed) {
        TKA_FUZZ_CHECK(parsed->id == id);
        const std::optional<Event> again = tka::parse_event(id, serialise(*parsed));
        TKA_FUZZ_CHECK(again.has_value() && same(*parsed, *again));
    }
    return 0;
}
