// tokenctl key create|import|list|revoke. Listings show key ids only; a new key's secret is
// printed once, at creation. Every command first checks that the organization exists, so
// an unknown org is reported as such rather than as an empty list.
#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "common/json_views.hpp"
#include "tokenctl/commands.hpp"
#include "tokenctl/text_views.hpp"

namespace tka::tokenctl {

namespace {

void key_create(const Request& r, Context& ctx) {
    auto key = ctx.orgs.create_key(r.org_id, ctx.now);
    if (r.json) {
        print_json(ctx.out, {{"key_id", key.key_id}, {"secret_key", key.secret_key}});
        return;
    }
    print_fields(ctx.out, {{"key_id", key.key_id}, {"secret_key", key.secret_key}});
    ctx.out << "\nStore the secret key now: it is shown only this once.\n";
}

void key_import(const Request& r, Context& ctx) {
    auto info = ctx.orgs.import_key(r.org_id, r.legacy_key, ctx.now);
    if (r.json) {
        print_json(ctx.out, key_json(info));
    } else {
        ctx.out << fmt::format("imported legacy key as {} into {}\n", info.key_id, r.org_id);
    }
}

void key_list(const Request& r, Context& ctx) {
    auto keys = ctx.orgs.list_keys(r.org_id);
    std::sort(keys.begin(), keys.end(), [](const SecretKeyInfo& a, const SecretKeyInfo& b) {
        return std::tie(a.created_at, a.key_id) < std::tie(b.created_at, b.key_id);
    });
    if (r.json) {
        auto array = nlohmann::json::array();
        for (const auto& key : keys) {
            array.push_back(key_json(key));
        }
        print_json(ctx.out, array);
    } else {
        print_keys(ctx.out, keys);
    }
}

void key_revoke(const Request& r, Context& ctx) {
    ctx.orgs.revoke_key(r.org_id, r.key_id);
    if (r.json) {
        print_json(ctx.out, {{"key_id", r.key_id}, {"revoked", true}});
    } else {
        ctx.out << fmt::format("revoked key {} of {}\n", r.key_id, r.org_id);
    }
}

}  // namespace

void run_key_command(const Request& request, Context& ctx) {
    ctx.orgs.get(request.org_id);  // Denied(unknown_org) before anything else
    switch (request.command) {
        case Command::key_create:
            return key_create(request, ctx);
        case Command::key_import:
            return key_import(request, ctx);
        case Command::key_list:
            return key_list(request, ctx);
        case Command::key_revoke:
            return key_revoke(request, ctx);
        default:
            throw std::logic_error("run_key_command: not a key command");
    }
}

}  // namespace tka::tokenctl
