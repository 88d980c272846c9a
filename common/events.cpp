// Parsing of event stream entries (format in events.hpp and docs/events.md).
#include "common/events.hpp"

#include <charconv>
#include <map>

namespace tka {
namespace {

std::optional<std::int64_t> to_int(const std::string& s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

}  // namespace

std::optional<Event> parse_event(std::string id,
                                 const std::vector<std::pair<std::string, std::string>>& fields) {
    std::map<std::string, std::string> f(fields.begin(), fields.end());
    auto get = [&f](const char* name) -> const std::string* {
        auto it = f.find(name);
        return it == f.end() ? nullptr : &it->second;
    };
    const std::string* type = get("type");
    const std::string* org = get("org");
    if (type == nullptr || org == nullptr) {
        return std::nullopt;
    }
    Event e;
    e.id = std::move(id);
    e.org_id = *org;
    if (*type == "org.updated") {
        const std::string* auth = get("token_auth");
        const std::string* ttl = get("ttl");
        if (auth == nullptr || ttl == nullptr || !to_int(*ttl)) {
            return std::nullopt;
        }
        e.type = Event::Type::org_updated;
        e.token_auth = *auth == "1";
        e.ttl = *to_int(*ttl);
        return e;
    }
    const std::string* token = get("token");
    const std::string* user = get("user");
    if (token == nullptr || user == nullptr) {
        return std::nullopt;
    }
    e.token_id = *token;
    e.user_id = *user;
    if (*type == "token.revoked") {
        const std::string* reason = get("reason");
        e.type = Event::Type::token_revoked;
        e.reason = reason != nullptr ? *reason : "revoked";
        return e;
    }
    const std::string* pw = get("pw");
    const std::string* exp = get("exp");
    if (pw == nullptr || exp == nullptr || !to_int(*exp)) {
        return std::nullopt;
    }
    e.password_digest = *pw;
    e.expires_at = *to_int(*exp);
    if (*type == "token.created") {
        e.type = Event::Type::token_created;
    } else if (*type == "token.refreshed") {
        e.type = Event::Type::token_refreshed;
    } else {
        return std::nullopt;
    }
    return e;
}

}  // namespace tka
