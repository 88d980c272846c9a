// tokenctl org create|set|show|list. A new organization's first secret key is printed here
// and nowhere else, ever.
#include <algorithm>
#include <tuple>

#include "common/json_views.hpp"
#include "tokenctl/commands.hpp"
#include "tokenctl/text_views.hpp"

namespace tka::tokenctl {

namespace {

void org_create(const Request& r, Context& ctx) {
    auto created = ctx.orgs.create(r.name, r.ttl.value_or(kDefaultTtlSeconds),
                                   r.token_auth.value_or(false), ctx.now);
    if (r.json) {
        auto result = org_json(created.org);
        result["key_id"] = created.first_key.key_id;
        result["secret_key"] = created.first_key.secret_key;
        print_json(ctx.out, result);
        return;
    }
    auto fields = org_fields(created.org);
    fields.emplace_back("key_id", created.first_key.key_id);
    fields.emplace_back("secret_key", created.first_key.secret_key);
    print_fields(ctx.out, fields);
    ctx.out << "\nStore the secret key now: it is shown only this once.\n";
}

void org_set(const Request& r, Context& ctx) {
    auto org = ctx.orgs.update(r.org_id, r.ttl, r.token_auth);
    if (r.json) {
        print_json(ctx.out, org_json(org));
    } else {
        print_org(ctx.out, org);
    }
}

void org_show(const Request& r, Context& ctx) {
    auto org = ctx.orgs.get(r.org_id);
    if (r.json) {
        print_json(ctx.out, org_json(org));
    } else {
        print_org(ctx.out, org);
    }
}

void org_list(const Request& r, Context& ctx) {
    auto orgs = ctx.orgs.list();
    std::sort(orgs.begin(), orgs.end(), [](const Organization& a, const Organization& b) {
        return std::tie(a.created_at, a.org_id) < std::tie(b.created_at, b.org_id);
    });
    if (r.json) {
        auto array = nlohmann::json::array();
        for (const auto& org : orgs) {
            array.push_back(org_json(org));
        }
        print_json(ctx.out, array);
    } else {
        print_orgs(ctx.out, orgs);
    }
}

}  // namespace

void run_org_command(const Request& request, Context& ctx) {
    switch (request.command) {
        case Command::org_create:
            return org_create(request, ctx);
        case Command::org_set:
            return org_set(request, ctx);
        case Command::org_show:
            return org_show(request, ctx);
        case Command::org_list:
            return org_list(request, ctx);
        default:
            throw std::logic_error("run_org_command: not an org command");
    }
}

}  // namespace tka::tokenctl
