// The dashboard's audit lines (see admin_audit.hpp).
#include "tokend/admin_audit.hpp"

#include <nlohmann/json.hpp>

namespace tka::tokend::admin {

std::string format_audit_line(const AuditEntry& e, std::chrono::system_clock::time_point ts) {
    nlohmann::ordered_json line;
    line["ts"] = format_log_time(ts);
    line["admin_action"] = e.action;
    if (!e.admin.empty()) {
        line["admin"] = e.admin;
    }
    line["remote"] = e.remote;
    if (!e.org_id.empty()) {
        line["org_id"] = e.org_id;
    }
    if (!e.key_id.empty()) {
        line["key_id"] = e.key_id;
    }
    if (!e.token_id.empty()) {
        line["token_id"] = e.token_id;
    }
    if (e.token_auth) {
        line["token_auth"] = *e.token_auth;
    }
    if (e.ttl) {
        line["ttl"] = *e.ttl;
    }
    if (e.revoked) {
        line["revoked"] = *e.revoked;
    }
    line["outcome"] = e.outcome;
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void audit(RequestLog& log, const AuditEntry& entry) {
    log.write_line(format_audit_line(entry, std::chrono::system_clock::now()));
}

}  // namespace tka::tokend::admin
