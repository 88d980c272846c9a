// Sources of the Lua scripts declared in lua_scripts.hpp, and EVALSHA/EVAL dispatch.
// Time ("now") is always an argument so tokend's clock decides, and tests can pin it.
#include "common/lua_scripts.hpp"

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/redis_keys.hpp"
#include "common/token_record.hpp"

namespace tka {

LuaScript::LuaScript(std::string name, std::string source)
    : name_(std::move(name)), source_(std::move(source)), sha1_(crypto::sha1_hex(source_)) {}

RedisValue LuaScript::run(RedisConnection& redis, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args) const {
    RedisValue reply = eval(redis, keys, args);
    reply.expect_ok("Lua script " + name_);
    return reply;
}

void LuaScript::load(RedisConnection& redis) const {
    redis.command({"SCRIPT", "LOAD", source_}).expect_ok("SCRIPT LOAD " + name_);
}

std::vector<std::string> LuaScript::evalsha_command(const std::vector<std::string>& keys,
                                                    const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"EVALSHA", sha1_, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
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

// Helpers shared by the token scripts: the compact layout's bucket names (derived from the
// org prefix exactly as common/redis_keys.cpp builds them), the record codec of
// common/token_record.hpp, and the sweep that deletes records past their retention.
std::string layout_prelude() {
    std::string p = "local UB, PB, TOKIDX = '";
    p.append(keys::kUserBucketInfix).append("', '").append(keys::kPasswordBucketInfix);
    p.append("', '").append(keys::kTokenIndexPrefix).append("'\n");
    p.append("local MAXBITS, PER_BUCKET = ").append(std::to_string(layout::kMaxBucketBits));
    p.append(", ").append(std::to_string(layout::kRecordsPerBucket)).append("\n");
    p.append(R"lua(
local REC = '>c1I4I4I4c32c12'
local function top20(raw)
  local a, b, c = string.byte(raw, 1, 3)
  return a * 4096 + b * 16 + math.floor(c / 16)
end
-- The bucket of generation g that the identifier `raw` (its bytes) falls into.
local function bucket(prefix, infix, g, raw)
  return prefix .. infix .. g .. ':' .. string.format('%x', math.floor(top20(raw) / 2 ^ (MAXBITS - g)))
end
local function unpack_rec(v)
  local st, cr, ex, rf, pw, user = struct.unpack(REC, v)
  return {st = st, cr = cr, ex = ex, rf = rf, pw = pw, user = user}
end
local function pack_rec(r)
  return struct.pack(REC, r.st, r.cr, r.ex, r.rf, r.pw, r.user)
end
local function tokidx(raw)
  return TOKIDX .. string.format('%02x%02x', string.byte(raw, 1, 2))
end
local function uuid(raw)
  local h = string.gsub(raw, '.', function(c) return string.format('%02x', string.byte(c)) end)
  return string.sub(h, 1, 8) .. '-' .. string.sub(h, 9, 12) .. '-' .. string.sub(h, 13, 16) ..
         '-' .. string.sub(h, 17, 20) .. '-' .. string.sub(h, 21, 32)
end
-- Password index: entries never move, so a digest is looked for from the newest
-- generation down (HGET/HDEL of a missing bucket costs next to nothing).
local function pw_find(prefix, bits, pw)
  for g = bits, 0, -1 do
    local v = redis.call('HGET', bucket(prefix, PB, g, pw), pw)
    if v then return v end
  end
  return nil
end
local function pw_del(prefix, bits, pw)
  for g = bits, 0, -1 do
    if redis.call('HDEL', bucket(prefix, PB, g, pw), pw) == 1 then return end
  end
end
local function event(stream, maxlen, ...)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', ...)
end
-- Ends a live token (record r in user bucket ub, field id): status st ('r' revoked,
-- 'p' replaced), its password index entry deleted, token.revoked with `reason`.
local function end_token(stream, maxlen, prefix, bits, ub, id, r, st, org_id, id_s, user_s,
                         reason)
  r.st = st
  redis.call('HSET', ub, id, pack_rec(r))
  pw_del(prefix, bits, r.pw)
  event(stream, maxlen, 'type', 'token.revoked', 'org', org_id, 'token', id_s,
        'user', user_s, 'reason', reason)
end
-- Deletes the records of `budget` user buckets that are past expires_at + keep (as Redis
-- would have expired them), with their password and token index entries and the e-mail
-- fields of users left without a record in that bucket. The org hash's `sweep` field is
-- the cursor over every bucket of every generation (position p: generation
-- floor(log2(p + 1)), index p + 1 - 2^generation). Returns the records deleted.
local function sweep(prefix, orgkey, bits, now, keep, budget)
  local pos = tonumber(redis.call('HGET', orgkey, 'sweep') or '0') or 0
  local total = 2 ^ (bits + 1) - 1
  local removed = 0
  for _ = 1, math.min(budget, total) do
    if pos >= total then pos = 0 end
    local g, p = 0, pos + 1
    while p >= 2 do p = math.floor(p / 2); g = g + 1 end
    local ub = prefix .. UB .. g .. ':' .. string.format('%x', pos + 1 - 2 ^ g)
    local all = redis.call('HGETALL', ub)
    local dead = false
    for j = 1, #all, 2 do
      local f, v = all[j], all[j + 1]
      -- expires_at at byte 6, the digest at 14..45, the user at 46..57 (REC).
      if #f == 16 and struct.unpack('>I4', v, 6) + keep <= now then
        redis.call('HDEL', ub, f)
        pw_del(prefix, bits, string.sub(v, 14, 45))
        redis.call('HDEL', tokidx(f), f)
        removed = removed + 1
        dead = true
      end
    end
    if dead then
      -- E-mail fields of users left without a record in this bucket.
      local users, emails = {}, {}
      for j = 1, #all, 2 do
        local f, v = all[j], all[j + 1]
        if #f ~= 16 then
          emails[#emails + 1] = f
        elseif struct.unpack('>I4', v, 6) + keep > now then
          users[string.sub(v, 46, 57)] = true
        end
      end
      for _, u in ipairs(emails) do
        if not users[u] then redis.call('HDEL', ub, u) end
      end
    end
    pos = pos + 1
  end
  redis.call('HSET', orgkey, 'sweep', pos)
  if removed > 0 then redis.call('HINCRBY', orgkey, 'n', -removed) end
  return removed
end
)lua");
    return p;
}

std::string with_layout(const char* body) {
    return layout_prelude() + body;
}

}  // namespace

const LuaScript& create_token() {
    static const LuaScript script("create_token", with_layout(R"lua(
local prefix, org_id, id, id_s, user, user_s, email =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local pw, pw_s, replace, now, keep, maxlen = ARGV[8], ARGV[9], ARGV[10], tonumber(ARGV[11]),
  tonumber(ARGV[12]), ARGV[13]
local key_digest, salt_digest, loc, budget, emit = ARGV[14], ARGV[15], ARGV[16],
  tonumber(ARGV[17]), ARGV[18]
local org = redis.call('HMGET', KEYS[1], 'token_auth', 'ttl', 'user_salt', 'bits', 'n')
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
local bits, n = tonumber(org[4] or '0'), tonumber(org[5] or '0')
local result = {'ok', tostring(ttl), tostring(exp)}
if replace == '1' then
  -- The user's records sit in its bucket of each generation that has its e-mail field.
  for g = bits, 0, -1 do
    local ub = bucket(prefix, UB, g, user)
    if redis.call('HEXISTS', ub, user) == 1 then
      local all = redis.call('HGETALL', ub)
      for j = 1, #all, 2 do
        local f = all[j]
        if #f == 16 and string.sub(all[j + 1], 46, 57) == user then
          local r = unpack_rec(all[j + 1])
          if r.st == 'a' and r.ex > now then
            local old = uuid(f)
            end_token(KEYS[2], maxlen, prefix, bits, ub, f, r, 'p', org_id, old, user_s,
                      'replaced')
            result[#result + 1] = old
          end
        end
      end
    end
  end
end
local gen = string.char(bits)
redis.call('HSET', bucket(prefix, UB, bits, user), user, email, id,
           struct.pack(REC, 'a', now, exp, 0, pw, user))
redis.call('HSET', bucket(prefix, PB, bits, pw), pw, id .. user .. gen)
redis.call('HSET', KEYS[4], id, loc .. gen)
n = n + 1
if n > PER_BUCKET * 2 ^ bits and bits < MAXBITS then
  bits = bits + 1
  redis.call('HSET', KEYS[1], 'n', n, 'bits', bits)
else
  redis.call('HSET', KEYS[1], 'n', n)
end
if emit == '1' then
  event(KEYS[2], maxlen, 'type', 'token.created', 'org', org_id, 'token', id_s, 'user', user_s,
        'pw', pw_s, 'exp', tostring(exp))
end
-- Every 8th create of the org sweeps (a bucket holds ~32 records: deletion keeps pace).
if budget > 0 and n % 8 == 0 then sweep(prefix, KEYS[1], bits, now, keep, budget) end
return result
)lua"));
    return script;
}

const LuaScript& refresh_token() {
    static const LuaScript script("refresh_token", with_layout(R"lua(
local prefix, org_id, id, id_s, user, user_s, g =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local old_pw, new_pw, new_pw_s = ARGV[8], ARGV[9], ARGV[10]
local now, keep, maxlen = tonumber(ARGV[11]), tonumber(ARGV[12]), ARGV[13]
local ub = bucket(prefix, UB, g, user)
local got = redis.call('HMGET', ub, id, user)
if not got[1] then return {'unknown_token'} end
local r = unpack_rec(got[1])
if r.ex + keep <= now then return {'unknown_token'} end
if r.pw == new_pw then
  -- A retry of a refresh already applied (its reply was lost): the same answer again, or
  -- why the token has ended since.
  if r.st == 'a' and r.ex > now then
    return {'ok', tostring(r.ex - math.max(r.cr, r.rf)), tostring(r.ex), user_s, got[2] or ''}
  end
elseif r.pw ~= old_pw then
  return {'wrong_password'}
end
if r.st == 'r' then return {'revoked'} end
if r.st == 'p' then return {'replaced'} end
if r.ex <= now then return {'expired'} end
local org = redis.call('HMGET', KEYS[1], 'token_auth', 'ttl', 'bits')
if not org[2] then return {'unknown_org'} end
if org[1] ~= '1' then return {'token_auth_off'} end
local ttl = tonumber(org[2])
local exp = now + ttl
local bits = tonumber(org[3] or '0')
r.pw, r.ex, r.rf = new_pw, exp, now
redis.call('HSET', ub, id, pack_rec(r))
pw_del(prefix, bits, old_pw)
redis.call('HSET', bucket(prefix, PB, bits, new_pw), new_pw, id .. user .. string.char(g))
event(KEYS[2], maxlen, 'type', 'token.refreshed', 'org', org_id, 'token', id_s, 'user', user_s,
      'pw', new_pw_s, 'exp', tostring(exp))
return {'ok', tostring(ttl), tostring(exp), user_s, got[2] or ''}
)lua"));
    return script;
}

const LuaScript& revoke_tokens() {
    static const LuaScript script("revoke_tokens", with_layout(R"lua(
local prefix, org_id, now, maxlen = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local bits = tonumber(redis.call('HGET', KEYS[1], 'bits') or '0')
local result = {'ok'}
for i = 5, #ARGV, 5 do
  local id, id_s, user, user_s = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ub = bucket(prefix, UB, tonumber(ARGV[i + 4]), user)
  local v = redis.call('HGET', ub, id)
  if v then
    local r = unpack_rec(v)
    if r.st == 'a' and r.ex > now then
      end_token(KEYS[2], maxlen, prefix, bits, ub, id, r, 'r', org_id, id_s, user_s, 'revoked')
      result[#result + 1] = id_s
    end
  end
end
return result
)lua"));
    return script;
}

const LuaScript& update_org() {
    static const LuaScript script("update_org", R"lua(
local org_id, ttl, auth, maxlen = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown_org'} end
if ttl ~= '' then redis.call('HSET', KEYS[1], 'ttl', ttl) end
if auth ~= '' then redis.call('HSET', KEYS[1], 'token_auth', auth) end
local cur = redis.call('HMGET', KEYS[1], 'token_auth', 'ttl')
redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'type', 'org.updated', 'org', org_id,
           'token_auth', cur[1], 'ttl', cur[2])
return {'ok', cur[1], cur[2]}
)lua");
    return script;
}

const LuaScript& authenticate() {
    static const LuaScript script("authenticate", with_layout(R"lua(
local prefix, pw, now, keep = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local org = redis.call('HMGET', KEYS[1], 'token_auth', 'bits')
if not org[1] then return {'unknown_token'} end
if org[1] ~= '1' then return {'token_auth_off'} end
local v = pw_find(prefix, tonumber(org[2] or '0'), pw)
if not v then return {'unknown_token'} end
local id, user = string.sub(v, 1, 16), string.sub(v, 17, 28)
-- HMGET, not HGET: commandstats then counts password index probes as HGET alone.
local rv = redis.call('HMGET', bucket(prefix, UB, string.byte(v, 29), user), id)[1]
if not rv then return {'unknown_token'} end
local r = unpack_rec(rv)
if r.ex + keep <= now then return {'unknown_token'} end
if r.st ~= 'a' then return {'revoked'} end
if r.ex <= now then return {'expired'} end
return {'ok', id, user, tostring(r.ex)}
)lua"));
    return script;
}

const LuaScript& import_token() {
    static const LuaScript script("import_token", with_layout(R"lua(
local prefix, id, user, email, pw, rec, loc = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
  ARGV[6], ARGV[7]
local indexed, live = ARGV[8], ARGV[9]
if redis.call('HEXISTS', KEYS[2], id) == 1 then return {0} end
local org = redis.call('HMGET', KEYS[1], 'bits', 'n')
local bits, n = tonumber(org[1] or '0'), tonumber(org[2] or '0')
local gen = string.char(bits)
redis.call('HSET', bucket(prefix, UB, bits, user), user, email, id, rec)
if indexed == '1' then
  redis.call('HSET', bucket(prefix, PB, bits, pw), pw, id .. user .. gen)
end
redis.call('HSET', KEYS[2], id, loc .. gen)
n = n + 1
if n > PER_BUCKET * 2 ^ bits and bits < MAXBITS then
  redis.call('HSET', KEYS[1], 'n', n, 'bits', bits + 1)
else
  redis.call('HSET', KEYS[1], 'n', n)
end
if live == '1' then
  event(KEYS[3], ARGV[15], 'type', 'token.created', 'org', ARGV[10], 'token', ARGV[11],
        'user', ARGV[12], 'pw', ARGV[13], 'exp', ARGV[14])
end
return {1}
)lua"));
    return script;
}

const LuaScript& sweep_expired() {
    static const LuaScript script("sweep_expired", with_layout(R"lua(
local prefix, now, keep, budget = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local bits = redis.call('HGET', KEYS[1], 'bits')
if not redis.call('HGET', KEYS[1], 'ttl') then return {'unknown_org'} end
return {'ok', sweep(prefix, KEYS[1], tonumber(bits or '0'), now, keep, budget)}
)lua"));
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
