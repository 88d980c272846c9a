// Sources of the Lua scripts declared in lua_scripts.hpp, and EVALSHA/EVAL dispatch.
// Time ("now") is always an argument so tokend's clock decides, and tests can pin it.
#include "common/lua_scripts.hpp"

#include "common/crypto.hpp"
#include "common/errors.hpp"

namespace tka {

LuaScript::LuaScript(std::string name, std::string source)
    : name_(std::move(name)), source_(std::move(source)), sha1_(crypto::sha1_hex(source_)) {}

RedisValue LuaScript::run(RedisConnection& redis, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args) const {
    RedisValue reply = eval(redis, keys, args);
    reply.expect_ok("Lua script " + name_);
    return reply;
}

RedisValue LuaScript::eval(RedisConnection& redis, const std::vector<std::string>& keys,
                           const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"EVALSHA", sha1_, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    RedisValue reply = redis.command(argv);
    if (reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0) {
        argv[0] = "EVAL";
        argv[1] = source_;
        reply = redis.command(argv);
    }
    return reply;
}

namespace scripts {
namespace {

// Helpers shared by the scripts: moving a key's expiry only ever later.
constexpr const char* kPrelude = R"lua(
local function extend_expiry(key, at)
  local cur = redis.call('EXPIRETIME', key)
  if cur < 0 or cur < at then redis.call('EXPIREAT', key, at) end
end
local function event(stream, maxlen, ...)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', ...)
end
)lua";

std::string with_prelude(const char* body) {
    return std::string(kPrelude) + body;
}

}  // namespace

const LuaScript& create_token() {
    static const LuaScript script("create_token", with_prelude(R"lua(
local prefix, org_id, id, user, email, pw = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local replace, now, keep, maxlen = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local key_digest, salt_digest = ARGV[12], ARGV[13]
local org = redis.call('HMGET', KEYS[1], 'token_auth', 'ttl', 'user_salt')
if not org[2] then return {'unknown_org'} end
-- The secret key check, when the caller passes the SHA-256 hex of the presented key ('' only
-- from in-process callers that authenticated otherwise). Every key of the org is compared,
-- whichever matches. Lua's '==' is not constant-time, and need not be here: the stored
-- digests are not attacker-controlled and the attacker sees only SHA-256 of what he sends,
-- so timing could at best reveal a prefix of a stored digest, never a key (SHA-256 is
-- preimage resistant and keys carry >= 190 bits of randomness).
if key_digest ~= '' then
  local match = false
  for _, stored in ipairs(redis.call('HVALS', KEYS[3])) do
    local ok, k = pcall(cjson.decode, stored)
    if ok and type(k) == 'table' and k.digest == key_digest then match = true end
  end
  if not match then return {'bad_secret_key'} end
end
-- The user id was derived from a cached user_salt: refuse if that is not the org's salt.
if salt_digest ~= '' and redis.sha1hex(org[3] or '') ~= salt_digest then
  return {'stale_salt'}
end
if org[1] ~= '1' then return {'token_auth_off'} end
local ttl = tonumber(org[2])
local exp = now + ttl
-- Numbers as strings once (redis.call would format each number argument anew).
local now_s, exp_s, purge_s = ARGV[8], tostring(exp), tostring(exp + keep)
-- Moves a key's expiry to `at` unless it is later already: one call for a key that has an
-- expiry (GT), three for a key without one (GT treats that as infinite).
local function later_expiry(key, at)
  if redis.call('EXPIREAT', key, at, 'GT') == 0 and redis.call('TTL', key) == -1 then
    redis.call('EXPIREAT', key, at)
  end
end
-- user_key: every token of the user whose record may still exist (token list --email,
-- revoke by e-mail). live_key: the ones that may still be live, for replace_existing.
-- Invariant: while live_key exists it holds every active, unexpired token of the user.
-- When it does not (data from before it existed, or it expired before a refreshed token),
-- it is rebuilt from user_key.
local user_key = prefix .. 'user:' .. user
local live_key = prefix .. 'live:' .. user
local result = {'ok', tostring(ttl), tostring(exp)}
-- (Redis deletes empty sets: an empty answer means live_key does not exist.)
local candidates
if replace == '1' then
  candidates = redis.call('SMEMBERS', live_key)
else
  candidates = redis.call('SRANDMEMBER', live_key, 2)  -- prune a few dead ones
end
if #candidates == 0 then candidates = redis.call('SMEMBERS', user_key) end
for _, old in ipairs(candidates) do
  local old_key = prefix .. 'token:' .. old
  local rec = redis.call('HMGET', old_key, 'status', 'expires_at', 'pw')
  if rec[1] == 'active' and tonumber(rec[2]) > now then
    if replace == '1' then
      redis.call('HSET', old_key, 'status', 'replaced', 'ended_at', now_s)
      redis.call('DEL', prefix .. 'pw:' .. rec[3])
      event(KEYS[2], maxlen, 'type', 'token.revoked', 'org', org_id, 'token', old,
            'user', user, 'reason', 'replaced')
      result[#result + 1] = old
    else
      redis.call('SADD', live_key, old)
    end
  else
    redis.call('SREM', live_key, old)
    if not rec[1] then redis.call('SREM', user_key, old) end
  end
end
-- Drop members whose record Redis has already deleted, two at random per create: as every
-- create adds one, user_key stays within about twice the records that still exist.
for _, old in ipairs(redis.call('SRANDMEMBER', user_key, 2)) do
  if redis.call('EXISTS', prefix .. 'token:' .. old) == 0 then
    redis.call('SREM', user_key, old)
  end
end
local token_key = prefix .. 'token:' .. id
redis.call('HSET', token_key, 'user_id', user, 'email', email, 'pw', pw, 'status', 'active',
           'created_at', now_s, 'expires_at', exp_s, 'ttl', org[2], 'refreshed_at', '0')
redis.call('EXPIREAT', token_key, purge_s)
redis.call('SET', prefix .. 'pw:' .. pw, id, 'EXAT', purge_s)
redis.call('SADD', user_key, id)
later_expiry(user_key, purge_s)
if replace == '1' then
  redis.call('DEL', live_key)
  redis.call('SADD', live_key, id)
  redis.call('EXPIREAT', live_key, purge_s)
else
  redis.call('SADD', live_key, id)
  later_expiry(live_key, purge_s)
end
redis.call('ZADD', prefix .. 'tokens', exp_s, id)
redis.call('ZREMRANGEBYSCORE', prefix .. 'tokens', '-inf', '(' .. (now - keep))
redis.call('SET', ARGV[11], org_id, 'EXAT', purge_s)
event(KEYS[2], maxlen, 'type', 'token.created', 'org', org_id, 'token', id, 'user', user,
      'pw', pw, 'exp', exp_s)
return result
)lua"));
    return script;
}

const LuaScript& refresh_token() {
    static const LuaScript script("refresh_token", with_prelude(R"lua(
local prefix, org_id, id, old_pw, new_pw = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, keep, maxlen = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local token_key = prefix .. 'token:' .. id
local rec = redis.call('HMGET', token_key, 'status', 'pw', 'expires_at', 'user_id', 'email', 'ttl')
if not rec[1] then return {'unknown_token'} end
-- This very refresh (the caller's new digest) committed already and its answer was lost:
-- answer as the first time did, from the record it wrote; change nothing.
if rec[2] == new_pw and rec[1] == 'active' and tonumber(rec[3]) > now then
  return {'ok', rec[6], rec[3], rec[4], rec[5]}
end
if rec[2] ~= old_pw then return {'wrong_password'} end
if rec[1] == 'revoked' then return {'revoked'} end
if rec[1] == 'replaced' then return {'replaced'} end
if tonumber(rec[3]) <= now then return {'expired'} end
local org = redis.call('HMGET', KEYS[1], 'token_auth', 'ttl')
if not org[2] then return {'unknown_org'} end
if org[1] ~= '1' then return {'token_auth_off'} end
local ttl = tonumber(org[2])
local exp = now + ttl
redis.call('HSET', token_key, 'pw', new_pw, 'expires_at', exp, 'ttl', ttl, 'refreshed_at', now)
redis.call('EXPIREAT', token_key, exp + keep)
redis.call('DEL', prefix .. 'pw:' .. old_pw)
redis.call('SET', prefix .. 'pw:' .. new_pw, id, 'EXAT', exp + keep)
extend_expiry(prefix .. 'user:' .. rec[4], exp + keep)
redis.call('ZADD', prefix .. 'tokens', exp, id)
redis.call('SET', ARGV[9], org_id, 'EXAT', exp + keep)
event(KEYS[2], maxlen, 'type', 'token.refreshed', 'org', org_id, 'token', id, 'user', rec[4],
      'pw', new_pw, 'exp', exp)
return {'ok', tostring(ttl), tostring(exp), rec[4], rec[5]}
)lua"));
    return script;
}

const LuaScript& revoke_tokens() {
    static const LuaScript script("revoke_tokens", with_prelude(R"lua(
local prefix, org_id, now, maxlen = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local result = {'ok'}
for i = 5, #ARGV do
  local id = ARGV[i]
  local token_key = prefix .. 'token:' .. id
  local rec = redis.call('HMGET', token_key, 'status', 'expires_at', 'pw', 'user_id')
  if rec[1] == 'active' and tonumber(rec[2]) > now then
    redis.call('HSET', token_key, 'status', 'revoked', 'ended_at', now)
    redis.call('DEL', prefix .. 'pw:' .. rec[3])
    event(KEYS[2], maxlen, 'type', 'token.revoked', 'org', org_id, 'token', id,
          'user', rec[4], 'reason', 'revoked')
    result[#result + 1] = id
  end
end
return result
)lua"));
    return script;
}

const LuaScript& update_org() {
    static const LuaScript script("update_org", with_prelude(R"lua(
local org_id, ttl, auth, maxlen = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown_org'} end
if ttl ~= '' then redis.call('HSET', KEYS[1], 'ttl', ttl) end
if auth ~= '' then redis.call('HSET', KEYS[1], 'token_auth', auth) end
local cur = redis.call('HMGET', KEYS[1], 'token_auth', 'ttl')
event(KEYS[2], maxlen, 'type', 'org.updated', 'org', org_id, 'token_auth', cur[1], 'ttl', cur[2])
return {'ok', cur[1], cur[2]}
)lua"));
    return script;
}

const LuaScript& authenticate() {
    static const LuaScript script("authenticate", R"lua(
local prefix, pw, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local auth = redis.call('HGET', KEYS[1], 'token_auth')
if not auth then return {'unknown_token'} end
if auth ~= '1' then return {'token_auth_off'} end
local id = redis.call('GET', prefix .. 'pw:' .. pw)
if not id then return {'unknown_token'} end
local rec = redis.call('HMGET', prefix .. 'token:' .. id, 'status', 'user_id', 'expires_at')
if not rec[1] then return {'unknown_token'} end
if rec[1] ~= 'active' then return {'revoked'} end
if tonumber(rec[3]) <= now then return {'expired'} end
return {'ok', id, rec[2], rec[3]}
)lua");
    return script;
}

namespace {

// Server time in ms and stream-id ordering, shared by the two registry scripts.
constexpr const char* kRegistryPrelude = R"lua(
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function split_id(id)
  local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
  return tonumber(ms or '0'), tonumber(seq or '0')
end
local function id_less(a, b)
  local am, as = split_id(a)
  local bm, bs = split_id(b)
  return am < bm or (am == bm and as < bs)
end
local function last_id(stream)
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if top[1] then return top[1][1] end
  return '0-0'
end
)lua";

std::string with_registry_prelude(const char* body) {
    return std::string(kRegistryPrelude) + body;
}

}  // namespace

const LuaScript& replica_heartbeat() {
    static const LuaScript script("replica_heartbeat", with_registry_prelude(R"lua(
local id, applied = ARGV[1], ARGV[2]
local stale, forget = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = server_ms()
local prev = redis.call('ZSCORE', KEYS[1], id)
local fresh = 0
if prev and now - tonumber(prev) < stale then fresh = 1 end
redis.call('ZADD', KEYS[1], now, id)
redis.call('HSET', KEYS[2], id, applied)
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - forget), 'LIMIT', 0, 100)
for _, dead in ipairs(gone) do
  redis.call('ZREM', KEYS[1], dead)
  redis.call('HDEL', KEYS[2], dead)
end
return {fresh, last_id(KEYS[3]), now}
)lua"));
    return script;
}

const LuaScript& replica_fence() {
    static const LuaScript script("replica_fence", with_registry_prelude(R"lua(
local target, start, stale = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = server_ms()
if target == '' then target = last_id(KEYS[1]) end
if not start then start = now end
local lagging, dropped = 0, 0
local regs = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (start - stale), '+inf', 'WITHSCORES')
for i = 1, #regs, 2 do
  local applied = redis.call('HGET', KEYS[3], regs[i])
  if not applied or id_less(applied, target) then
    if now - tonumber(regs[i + 1]) < stale then
      lagging = lagging + 1
    else
      dropped = dropped + 1
    end
  end
end
return {target, tostring(start), lagging, dropped}
)lua"));
    return script;
}

}  // namespace scripts
}  // namespace tka
