// Credential classification (see credentials.hpp). Pure string checks, no I/O.
#include "plugin/credentials.hpp"

#include "common/identifiers.hpp"

namespace tka::plugin {

Credentials classify(std::optional<std::string_view> username,
                     std::optional<std::string_view> password) {
    Credentials out;
    if (!username || !password) {
        return out;
    }
    if (username->find(kOrgMarker) == std::string_view::npos) {
        return out;
    }
    if (password->substr(0, kTokenPasswordPrefix.size()) != kTokenPasswordPrefix) {
        return out;
    }
    auto parsed = ids::parse_username(*username);
    if (!parsed) {
        out.kind = Credentials::Kind::malformed_username;
        return out;
    }
    out.kind = Credentials::Kind::ours;
    out.user_id = std::move(parsed->user_id);
    out.org_id = std::move(parsed->org_id);
    return out;
}

}  // namespace tka::plugin
