// Migration from the previous Redis layout (see layout_migration.hpp).
#include "common/layout_migration.hpp"

#include <charconv>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/events.hpp"
#include "common/identifiers.hpp"
#include "common/lua_scripts.hpp"
#include "common/redis_keys.hpp"
#include "common/token_record.hpp"
#include "common/token_store.hpp"

namespace tka {
namespace {

constexpr std::size_t kBatch = 200;  // tokens per pipelined round trip

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::vector<std::string> all_orgs(RedisConnection& redis) {
    std::vector<std::string> orgs;
    std::string cursor = "0";
    do {
        RedisValue page =
            redis.command({"SSCAN", keys::org_index(), cursor, "COUNT", "500"}).expect_ok("SSCAN");
        if (page.elements.size() != 2) {
            throw RedisError("SSCAN: unexpected reply");
        }
        cursor = page.elements[0].str;
        for (const RedisValue& e : page.elements[1].elements) {
            if (ids::is_org_id(e.str)) {
                orgs.push_back(e.str);
            }
        }
    } while (cursor != "0");
    return orgs;
}

char status_byte(const std::string& status) {
    if (status == "revoked") {
        return layout::kRevoked;
    }
    if (status == "replaced") {
        return layout::kReplaced;
    }
    return layout::kActive;
}

// The old record's fields -> the script call that writes it into the new layout, or
// nullopt when it cannot be read (then it is left alone and counted as gone).
std::optional<std::vector<std::string>> import_call(const std::string& org_id,
                                                    const std::string& token_id,
                                                    const RedisValue& hash, UnixSeconds now) {
    std::map<std::string, std::string> m;
    for (std::size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
        m[hash.elements[i].str] = hash.elements[i + 1].str;
    }
    const auto token_raw = layout::token_id_bytes(token_id);
    const auto user_raw = layout::unhex(m["user_id"]);
    const auto digest = layout::unhex(m["pw"]);
    if (!token_raw || !user_raw || user_raw->size() != layout::kUserIdBytes || !digest ||
        digest->size() != layout::kDigestBytes) {
        return std::nullopt;
    }
    layout::StoredRecord r;
    r.status = status_byte(m["status"]);
    r.created_at = static_cast<std::uint32_t>(to_int(m["created_at"]));
    r.expires_at = static_cast<std::uint32_t>(to_int(m["expires_at"]));
    r.refreshed_at = static_cast<std::uint32_t>(to_int(m["refreshed_at"]));
    r.digest = *digest;
    r.user = *user_raw;
    const bool live = r.status == layout::kActive && r.expires_at > now;
    const LuaScript& script = scripts::import_token();
    return script.evalsha_command(
        {keys::org(org_id), keys::token_index(*token_raw), keys::events()},
        {keys::org_prefix(org_id), *token_raw, *user_raw, m["email"], *digest,
         layout::encode_record(r), layout::encode_location_prefix(org_id, *user_raw),
         r.status == layout::kActive ? "1" : "0", live ? "1" : "0", org_id, token_id, m["user_id"],
         m["pw"], m["expires_at"], std::to_string(kEventStreamMaxLen)});
}

void migrate_org(RedisConnection& redis, const std::string& org_id, UnixSeconds now,
                 MigrationReport& report) {
    const std::string zkey = keys::legacy::org_tokens(org_id);
    const RedisValue members = redis.command({"ZRANGE", zkey, "0", "-1"}).expect_ok("ZRANGE");
    std::vector<std::string> ids;
    for (const RedisValue& m : members.elements) {
        if (ids::is_token_id(m.str)) {
            ids.push_back(m.str);
        }
    }
    std::set<std::string> users;
    for (std::size_t first = 0; first < ids.size(); first += kBatch) {
        const std::size_t last = std::min(ids.size(), first + kBatch);
        std::vector<std::vector<std::string>> reads;
        for (std::size_t i = first; i < last; ++i) {
            reads.push_back({"HGETALL", keys::legacy::token(org_id, ids[i])});
        }
        const auto records = redis.pipeline(reads);
        std::vector<std::vector<std::string>> writes;
        for (std::size_t i = first; i < last; ++i) {
            const RedisValue& hash = records[i - first].expect_ok("HGETALL token");
            std::optional<std::vector<std::string>> call;
            if (!hash.elements.empty()) {
                call = import_call(org_id, ids[i], hash, now);
            }
            if (!call) {
                ++report.gone;
                writes.push_back({"DEL", keys::legacy::token_org(ids[i])});
                continue;
            }
            std::map<std::string, std::string> m;
            for (std::size_t j = 0; j + 1 < hash.elements.size(); j += 2) {
                m[hash.elements[j].str] = hash.elements[j + 1].str;
            }
            writes.push_back(std::move(*call));
            users.insert(m["user_id"]);
            writes.push_back({"DEL", keys::legacy::token(org_id, ids[i]),
                              keys::legacy::password(org_id, m["pw"]),
                              keys::legacy::token_org(ids[i])});
        }
        for (const RedisValue& reply : redis.pipeline(writes)) {
            reply.expect_ok("migrate token");
            if (reply.is_array()) {
                (reply.elements.at(0).integer == 1 ? report.migrated : report.already) += 1;
            } else {
                report.old_keys_deleted += static_cast<std::size_t>(reply.integer);
            }
        }
    }
    std::vector<std::vector<std::string>> dels;
    for (const std::string& user : users) {
        dels.push_back({"DEL", keys::legacy::user_tokens(org_id, user),
                        keys::legacy::user_live_tokens(org_id, user)});
    }
    dels.push_back({"DEL", zkey});
    for (const RedisValue& reply : redis.pipeline(dels)) {
        report.old_keys_deleted += static_cast<std::size_t>(reply.expect_ok("DEL").integer);
    }
}

}  // namespace

MigrationReport migrate_legacy_layout(RedisConnection& redis, UnixSeconds now) {
    MigrationReport report;
    scripts::import_token().load(redis);
    for (const std::string& org_id : all_orgs(redis)) {
        ++report.orgs;
        migrate_org(redis, org_id, now, report);
    }
    redis.command({"SET", keys::layout_version(), "2"}).expect_ok("SET layout");
    return report;
}

bool legacy_layout_present(RedisConnection& redis) {
    const RedisValue version = redis.command({"GET", keys::layout_version()}).expect_ok("GET");
    if (!version.is_nil() && version.str == "2") {
        return false;
    }
    const std::vector<std::string> orgs = all_orgs(redis);
    for (std::size_t first = 0; first < orgs.size(); first += kBatch) {
        std::vector<std::vector<std::string>> cmds;
        for (std::size_t i = first; i < std::min(orgs.size(), first + kBatch); ++i) {
            cmds.push_back({"EXISTS", keys::legacy::org_tokens(orgs[i])});
        }
        for (const RedisValue& r : redis.pipeline(cmds)) {
            if (r.expect_ok("EXISTS").integer > 0) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace tka
