// tokenctl admin create|list|delete|reset-password: the operator dashboard's accounts
// (common/admin_store.hpp). A password is generated, never chosen, and printed here once,
// at create and at reset-password; Redis keeps only its scrypt hash.
#include <fmt/format.h>

#include "common/json_views.hpp"
#include "tokenctl/commands.hpp"
#include "tokenctl/text_views.hpp"

namespace tka::tokenctl {

namespace {

// The one place a password is shown: {"admin", "password"} or two aligned lines.
void print_password(const NewAdmin& admin, const Request& r, Context& ctx) {
    if (r.json) {
        print_json(ctx.out, {{"admin", admin.name}, {"password", admin.password}});
        return;
    }
    print_fields(ctx.out, {{"admin", admin.name}, {"password", admin.password}});
    ctx.out << "\nStore the password now: it is shown only this once.\n";
}

void admin_create(const Request& r, Context& ctx) {
    print_password(ctx.admins.create(r.name, ctx.now), r, ctx);
}

void admin_list(const Request& r, Context& ctx) {
    const auto admins = ctx.admins.list();
    if (!r.json) {
        print_admins(ctx.out, admins);
        return;
    }
    auto array = nlohmann::json::array();
    for (const auto& admin : admins) {
        array.push_back({{"admin", admin.name},
                         {"created_at", format_rfc3339(admin.created_at)},
                         {"password_changed_at", format_rfc3339(admin.password_changed_at)}});
    }
    print_json(ctx.out, array);
}

void admin_delete(const Request& r, Context& ctx) {
    ctx.admins.remove(r.name);
    if (r.json) {
        print_json(ctx.out, {{"admin", r.name}, {"deleted", true}});
    } else {
        ctx.out << fmt::format("deleted admin account {} and ended its sessions\n", r.name);
    }
}

void admin_reset_password(const Request& r, Context& ctx) {
    print_password(ctx.admins.reset_password(r.name, ctx.now), r, ctx);
}

}  // namespace

void run_admin_command(const Request& request, Context& ctx) {
    switch (request.command) {
        case Command::admin_create:
            return admin_create(request, ctx);
        case Command::admin_list:
            return admin_list(request, ctx);
        case Command::admin_delete:
            return admin_delete(request, ctx);
        case Command::admin_reset_password:
            return admin_reset_password(request, ctx);
        default:
            throw std::logic_error("run_admin_command: not an admin command");
    }
}

}  // namespace tka::tokenctl
