// tokenctl migrate: runs the layout migration (common/layout_migration.hpp) and reports
// what it did, as text or --json.
#include <nlohmann/json.hpp>

#include "common/layout_migration.hpp"
#include "tokenctl/commands.hpp"

namespace tka::tokenctl {

void run_migrate_command(const Request& request, RedisConnection& redis, Context& ctx) {
    const MigrationReport r = migrate_legacy_layout(redis, ctx.now);
    if (request.json) {
        nlohmann::json j;
        j["organizations"] = r.orgs;
        j["migrated"] = r.migrated;
        j["already_migrated"] = r.already;
        j["expired"] = r.gone;
        j["old_keys_deleted"] = r.old_keys_deleted;
        j["layout"] = 2;
        ctx.out << j.dump() << '\n';
        return;
    }
    ctx.out << "organizations:    " << r.orgs << '\n'
            << "tokens migrated:  " << r.migrated << '\n'
            << "already migrated: " << r.already << '\n'
            << "expired, skipped: " << r.gone << '\n'
            << "old keys deleted: " << r.old_keys_deleted << '\n'
            << "Redis layout is now version 2\n";
}

}  // namespace tka::tokenctl
