// Which CONNECT credentials belong to token auth. A username "user_id@org_id" with a
// "tkn_..." password is ours; everything else (no username, no password, other username
// forms, other passwords) is left to the password file or another plugin. A username that
// looks like ours ("...@org_...") with a token password but is not a valid
// user_id@org_id is ours and refused: it can never match a token.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tka::plugin {

struct Credentials {
    enum class Kind {
        not_ours,            // defer to the next authenticator
        ours,                // user_id/org_id parsed; look the password up
        malformed_username,  // ours by shape, but not a valid user_id@org_id: deny
    };
    Kind kind = Kind::not_ours;
    std::string user_id;  // Kind::ours only
    std::string org_id;   // Kind::ours only
};

inline constexpr std::string_view kOrgMarker = "@org_";
inline constexpr std::string_view kTokenPasswordPrefix = "tkn_";

// nullopt stands for a NULL username/password as Mosquitto passes them.
Credentials classify(std::optional<std::string_view> username,
                     std::optional<std::string_view> password);

}  // namespace tka::plugin
