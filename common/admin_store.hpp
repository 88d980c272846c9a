// The operator dashboard's accounts and sessions in Redis (docs/dashboard.md). tokenctl
// manages accounts (`tokenctl admin …`); tokend's admin listener checks logins and keeps
// sessions here, so every tokend instance behind a load balancer knows every session and a
// deleted or reset account is logged out everywhere at once.
//
// Accounts: HASH keys::admins() name -> JSON {"password": password_hash.hpp form,
// "created_at": unix, "password_changed_at": unix}. Passwords are generated (never chosen
// by a person), 24 random bytes in base64url, shown once.
//
// Sessions: HASH keys::admin_session(sha256 hex of the session id) {admin, csrf,
// created_at, last_seen} with a Redis TTL of the idle timeout, renewed on use; a session
// also ends at created_at + absolute timeout whatever its use. The session id (32 random
// bytes, base64url) lives only in the browser's cookie; Redis holds its digest. SET
// keys::admin_sessions_of(name) lists the digests of one admin's sessions so that delete
// and reset-password can end them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/redis.hpp"
#include "common/time_format.hpp"

namespace tka {

struct AdminInfo {
    std::string name;
    UnixSeconds created_at = 0;
    UnixSeconds password_changed_at = 0;
};

struct NewAdmin {
    std::string name;
    std::string password;  // shown once, stored only as a slow hash
};

struct AdminSession {
    std::string id;     // the cookie's value; never logged
    std::string admin;  // account name
    std::string csrf;   // token every state-changing request must carry
    UnixSeconds created_at = 0;
};

struct SessionTimeouts {
    std::chrono::seconds idle{30 * 60};
    std::chrono::seconds absolute{12 * 3600};
};

class AdminStore {
  public:
    explicit AdminStore(RedisConnection& redis) : redis_(redis) {}

    // Throws Denied(bad_request, why) for a name that display_name_problem() refuses (max
    // kMaxAdminNameBytes), Denied(conflict) when the name exists.
    NewAdmin create(const std::string& name, UnixSeconds now);
    std::vector<AdminInfo> list();  // sorted by name
    // Deletes the account and ends its sessions. Throws Denied(not_found).
    void remove(const std::string& name);
    // A new generated password; ends every session of the account. Throws Denied(not_found).
    NewAdmin reset_password(const std::string& name, UnixSeconds now);

    // Whether name + password are an account's. An unknown name costs the same scrypt
    // time as a wrong password (dummy_password_hash()).
    bool verify(const std::string& name, const std::string& password);

    // Sessions.
    AdminSession start_session(const std::string& name, UnixSeconds now,
                               const SessionTimeouts& timeouts);
    // The live session of `session_id` (renews its idle timeout), or nullopt when it is
    // unknown, idle too long, past its absolute end, or its account is gone.
    std::optional<AdminSession> find_session(const std::string& session_id, UnixSeconds now,
                                             const SessionTimeouts& timeouts);
    void end_session(const std::string& session_id);

  private:
    RedisConnection& redis_;
};

}  // namespace tka
