// The audit log of the operator dashboard: one JSON line on tokend's log (stderr) per
// admin action, whether it succeeded or was refused, e.g.
//   {"ts":"…","admin_action":"org.update","admin":"alice","remote":"127.0.0.1",
//    "org_id":"org_k7xm4pqr2n5t","token_auth":false,"outcome":"ok"}
// Built from named fields only: identifiers, the new TTL or token-auth state and an
// outcome code. Never a password, a secret key, a session id or a CSRF token; a failed
// sign-in does not even name the account typed (people type passwords into name fields).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tokend/request_log.hpp"

namespace tka::tokend::admin {

struct AuditEntry {
    std::string action;  // "login", "logout", "org.create", "org.update", "key.create",
                         // "key.import", "key.revoke", "token.revoke", "user.revoke"
    std::string admin;   // the signed-in account, "" when none
    std::string remote;  // client address
    std::string org_id;
    std::string key_id;
    std::string token_id;
    std::optional<bool> token_auth;
    std::optional<std::int64_t> ttl;
    std::optional<std::size_t> revoked;  // tokens revoked by the action
    std::string outcome = "ok";          // "ok" or the error code answered
};

std::string format_audit_line(const AuditEntry& entry, std::chrono::system_clock::time_point ts);

// Writes `entry` as one line of `log`, stamped now.
void audit(RequestLog& log, const AuditEntry& entry);

}  // namespace tka::tokend::admin
