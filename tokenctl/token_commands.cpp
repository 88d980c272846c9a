// tokenctl token list|revoke. Token records carry a password digest in Redis; nothing here
// ever reads or prints it (TokenRecord does not even hold it).
#include <fmt/format.h>

#include "common/json_views.hpp"
#include "tokenctl/commands.hpp"
#include "tokenctl/text_views.hpp"

namespace tka::tokenctl {

namespace {

void token_list(const Request& r, const Organization& org, Context& ctx) {
    auto tokens = r.email ? ctx.tokens.list_email(org, *r.email, ctx.now)
                          : ctx.tokens.list(r.org_id, ctx.now);
    if (r.json) {
        auto array = nlohmann::json::array();
        for (const auto& token : tokens) {
            array.push_back(token_json(token));
        }
        print_json(ctx.out, array);
    } else {
        print_tokens(ctx.out, tokens);
    }
}

void token_revoke(const Request& r, Context& ctx) {
    auto revoked = ctx.tokens.revoke(r.org_id, r.token_id, ctx.now);
    bool was_live = !revoked.empty();
    std::string status = "revoked";
    if (!was_live) {
        // Already dead: say what it is instead of pretending we did something.
        if (auto record = ctx.tokens.get(r.org_id, r.token_id, ctx.now)) {
            status = record->status;
        }
    }
    if (r.json) {
        print_json(ctx.out, {{"token_id", r.token_id}, {"revoked", was_live}, {"status", status}});
    } else if (was_live) {
        ctx.out << fmt::format("revoked token {}\n", r.token_id);
    } else {
        ctx.out << fmt::format("token {} was already {}; nothing to do\n", r.token_id, status);
    }
}

}  // namespace

void run_token_command(const Request& request, Context& ctx) {
    auto org = ctx.orgs.get(request.org_id);  // Denied(unknown_org) before anything else
    switch (request.command) {
        case Command::token_list:
            return token_list(request, org, ctx);
        case Command::token_revoke:
            return token_revoke(request, ctx);
        default:
            throw std::logic_error("run_token_command: not a token command");
    }
}

}  // namespace tka::tokenctl
