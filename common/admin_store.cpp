// AdminStore: the dashboard's accounts and sessions (layout in admin_store.hpp). Accounts
// are one field each of keys::admins(); creation is HSETNX, so two concurrent creates of one
// name cannot both succeed. Sessions are looked up by the SHA-256 of their id, so a copy of
// Redis does not hand out live cookies. Two small scripts keep "change it only if it still
// exists" atomic: a password reset never resurrects a deleted account, and finding a
// session checks its ends and its account and renews it in one step (one round trip per
// dashboard request), never recreating a session that has just expired.
#include "common/admin_store.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/display_name.hpp"
#include "common/errors.hpp"
#include "common/lua_scripts.hpp"
#include "common/password_hash.hpp"
#include "common/redis_keys.hpp"
#include "common/replica_wait.hpp"

namespace tka {
namespace {

constexpr std::size_t kPasswordBytes = 24;
constexpr std::size_t kSessionIdBytes = 32;
constexpr std::size_t kCsrfBytes = 32;
// A cookie value longer than this is not one of ours; it is not even hashed.
constexpr std::size_t kMaxSessionIdChars = 128;

// KEYS: admins. ARGV: name, new JSON -> 1 when replaced, 0 when the account is gone.
const LuaScript& replace_admin() {
    static const LuaScript script("replace_admin", R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
)lua");
    return script;
}

// KEYS: session, admins. ARGV: now, idle seconds, absolute seconds.
// -> {"ok", admin, csrf, created_at} after renewing the idle timeout; {"ended", admin}
// after deleting a session past its idle or absolute end or whose account is gone;
// {"none"} when there is no such session.
const LuaScript& find_session_script() {
    static const LuaScript script("find_admin_session", R"lua(
local s = redis.call('HMGET', KEYS[1], 'admin', 'csrf', 'created_at', 'last_seen')
if not s[1] or not s[2] then return {'none'} end
local now = tonumber(ARGV[1])
local created = tonumber(s[3]) or 0
local last_seen = tonumber(s[4]) or 0
if now >= created + tonumber(ARGV[3]) or now > last_seen + tonumber(ARGV[2]) or
   redis.call('HEXISTS', KEYS[2], s[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return {'ended', s[1]}
end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {'ok', s[1], s[2], s[3]}
)lua");
    return script;
}

struct StoredAdmin {
    AdminInfo info;
    std::string password_hash;
};

std::optional<StoredAdmin> parse_admin(const std::string& name, const std::string& json_text) {
    const auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (!j.is_object()) {
        return std::nullopt;
    }
    StoredAdmin a;
    a.info.name = name;
    a.info.created_at = j.value("created_at", UnixSeconds{0});
    a.info.password_changed_at = j.value("password_changed_at", UnixSeconds{0});
    a.password_hash = j.value("password", std::string());
    return a;
}

std::string admin_json(const std::string& password_hash, UnixSeconds created_at,
                       UnixSeconds password_changed_at) {
    return nlohmann::json{{"password", password_hash},
                          {"created_at", created_at},
                          {"password_changed_at", password_changed_at}}
        .dump();
}

std::string new_password() {
    return crypto::base64url(crypto::random_bytes(kPasswordBytes));
}

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::map<std::string, std::string> to_map(const RedisValue& v) {
    std::map<std::string, std::string> m;
    for (std::size_t i = 0; i + 1 < v.elements.size(); i += 2) {
        m[v.elements[i].str] = v.elements[i + 1].str;
    }
    return m;
}

Denied unknown_admin() {
    return Denied(Refusal::not_found, "there is no admin account with this name");
}

// Ends every session of one account (delete, reset-password).
void end_sessions_of(RedisConnection& redis, const std::string& name) {
    const std::string sessions_of = keys::admin_sessions_of(name);
    const auto digests = redis.command({"SMEMBERS", sessions_of}).expect_ok("admin sessions end");
    std::vector<std::vector<std::string>> commands;
    for (const auto& d : digests.elements) {
        commands.push_back({"DEL", keys::admin_session(d.str)});
    }
    commands.push_back({"DEL", sessions_of});
    for (const auto& r : redis.pipeline(commands)) {
        r.expect_ok("admin sessions end");
    }
}

}  // namespace

NewAdmin AdminStore::create(const std::string& name, UnixSeconds now) {
    if (auto problem = display_name_problem(name, kMaxAdminNameBytes)) {
        throw Denied(Refusal::bad_request, *problem);
    }
    NewAdmin created{name, new_password()};
    const std::string stored = admin_json(hash_password(created.password), now, now);
    if (redis_.command({"HSETNX", keys::admins(), name, stored})
            .expect_ok("admin create")
            .integer == 0) {
        throw Denied(Refusal::conflict, "an admin account with this name already exists");
    }
    confirm_replicated(redis_);
    return created;
}

std::vector<AdminInfo> AdminStore::list() {
    std::vector<AdminInfo> out;
    for (const auto& [name, json_text] :
         to_map(redis_.command({"HGETALL", keys::admins()}).expect_ok("admin list"))) {
        if (auto admin = parse_admin(name, json_text)) {
            out.push_back(std::move(admin->info));
        }
    }
    std::sort(out.begin(), out.end(),
              [](const AdminInfo& a, const AdminInfo& b) { return a.name < b.name; });
    return out;
}

void AdminStore::remove(const std::string& name) {
    if (redis_.command({"HDEL", keys::admins(), name}).expect_ok("admin delete").integer == 0) {
        throw unknown_admin();
    }
    end_sessions_of(redis_, name);
    confirm_replicated(redis_);
}

NewAdmin AdminStore::reset_password(const std::string& name, UnixSeconds now) {
    const auto current = redis_.command({"HGET", keys::admins(), name}).expect_ok("admin reset");
    const auto admin = current.is_nil() ? std::nullopt : parse_admin(name, current.str);
    if (!admin) {
        throw unknown_admin();
    }
    NewAdmin changed{name, new_password()};
    const std::string stored =
        admin_json(hash_password(changed.password), admin->info.created_at, now);
    if (replace_admin().run(redis_, {keys::admins()}, {name, stored}).integer == 0) {
        throw unknown_admin();  // deleted meanwhile
    }
    end_sessions_of(redis_, name);
    confirm_replicated(redis_);
    return changed;
}

bool AdminStore::verify(const std::string& name, const std::string& password) {
    const auto reply = redis_.command({"HGET", keys::admins(), name}).expect_ok("admin verify");
    const auto admin = reply.is_nil() ? std::nullopt : parse_admin(name, reply.str);
    if (!admin) {
        verify_password(password, dummy_password_hash());  // same cost as a wrong password
        return false;
    }
    return verify_password(password, admin->password_hash);
}

AdminSession AdminStore::start_session(const std::string& name, UnixSeconds now,
                                       const SessionTimeouts& timeouts) {
    AdminSession session;
    session.id = crypto::base64url(crypto::random_bytes(kSessionIdBytes));
    session.admin = name;
    session.csrf = crypto::base64url(crypto::random_bytes(kCsrfBytes));
    session.created_at = now;
    const std::string digest = crypto::sha256_hex(session.id);
    const std::string key = keys::admin_session(digest);
    const std::string sessions_of = keys::admin_sessions_of(name);
    // The index of the account's sessions outlives each of them by at most the absolute
    // timeout, so it does not grow without bound.
    const auto replies = redis_.pipeline({
        {"HSET", key, "admin", name, "csrf", session.csrf, "created_at", std::to_string(now),
         "last_seen", std::to_string(now)},
        {"EXPIRE", key, std::to_string(timeouts.idle.count())},
        {"SADD", sessions_of, digest},
        {"EXPIRE", sessions_of, std::to_string(timeouts.absolute.count())},
    });
    for (const auto& r : replies) {
        r.expect_ok("admin session start");
    }
    return session;
}

std::optional<AdminSession> AdminStore::find_session(const std::string& session_id, UnixSeconds now,
                                                     const SessionTimeouts& timeouts) {
    if (session_id.empty() || session_id.size() > kMaxSessionIdChars) {
        return std::nullopt;
    }
    const std::string digest = crypto::sha256_hex(session_id);
    const auto reply =
        find_session_script().run(redis_, {keys::admin_session(digest), keys::admins()},
                                  {std::to_string(now), std::to_string(timeouts.idle.count()),
                                   std::to_string(timeouts.absolute.count())});
    const auto& e = reply.elements;
    if (e.size() == 2 && e[0].str == "ended") {
        redis_.command({"SREM", keys::admin_sessions_of(e[1].str), digest})
            .expect_ok("admin session end");
        return std::nullopt;
    }
    if (e.size() != 4 || e[0].str != "ok") {
        return std::nullopt;
    }
    AdminSession session{session_id, e[1].str, e[2].str, to_int(e[3].str)};
    return session;
}

void AdminStore::end_session(const std::string& session_id) {
    if (session_id.empty() || session_id.size() > kMaxSessionIdChars) {
        return;
    }
    const std::string digest = crypto::sha256_hex(session_id);
    const std::string key = keys::admin_session(digest);
    const auto admin = redis_.command({"HGET", key, "admin"}).expect_ok("admin session end");
    redis_.command({"DEL", key}).expect_ok("admin session end");
    if (!admin.is_nil()) {
        redis_.command({"SREM", keys::admin_sessions_of(admin.str), digest})
            .expect_ok("admin session end");
    }
}

}  // namespace tka
