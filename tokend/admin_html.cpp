// The dashboard's pages and forms (see admin_html.hpp).
#include "tokend/admin_html.hpp"

#include <array>
#include <utility>

namespace tka::tokend::admin {

namespace {

struct Done {
    std::string_view code;
    std::string_view sentence;
};

constexpr std::array kDone = std::to_array<Done>({
    {"token-auth-on", "Token-based auth is on."},
    {"token-auth-off",
     "Token-based auth is off; the organization's live token connections were closed."},
    {"ttl-changed", "The TTL was changed; new and refreshed tokens get it."},
    {"key-imported", "The key was imported."},
    {"key-revoked", "The key was revoked; it can no longer mint tokens."},
    {"token-revoked", "The token was revoked; its connections were closed."},
    {"token-not-live", "That token had already ended; nothing was changed."},
    {"user-revoked", "Every live token of this user was revoked; their connections were closed."},
    {"user-had-none", "This user had no live tokens; nothing was changed."},
});

Frame frame_of(const AdminContext& ctx) {
    Frame f;
    f.admin = ctx.session.admin;
    f.csrf = ctx.session.csrf;
    f.now = ctx.now;
    if (!ctx.route.state_change) {
        f.flash = std::string(done_sentence(form_value(ctx.form, "done")));
    }
    return f;
}

std::string org_path(const AdminContext& ctx, std::string_view tail = {}) {
    return std::string("/orgs/").append(ctx.route.org_id).append(tail);
}

ApiResponse page(std::string body) {
    return html_answer(200, std::move(body));
}

// ?email= of the tokens page: "" for none; throws for a malformed address.
std::optional<std::string> email_filter(const AdminContext& ctx) {
    const std::string email = form_value(ctx.form, "email");
    if (email.empty()) {
        return std::nullopt;
    }
    return checked_email(email);
}

ApiResponse tokens_view(const AdminContext& ctx, Frame frame) {
    const Organization org = ctx.actions.get_org(ctx.route.org_id);
    std::optional<std::string> email;
    try {
        email = email_filter(ctx);
    } catch (const ActionError& e) {
        frame.error = e.what();
        return html_answer(400, tokens_page(frame, org, form_value(ctx.form, "email"), {}));
    }
    return page(
        tokens_page(frame, org, email.value_or(""), ctx.actions.list_tokens(org, email, ctx.now)));
}

// GET pages.
ApiResponse view(const AdminContext& ctx, Frame frame) {
    switch (ctx.route.route) {
        case AdminRoute::orgs_page:
            return page(orgs_page(frame, ctx.actions.list_orgs()));
        case AdminRoute::org_page:
            return page(org_page(frame, ctx.actions.get_org(ctx.route.org_id)));
        case AdminRoute::keys_page: {
            const Organization org = ctx.actions.get_org(ctx.route.org_id);
            return page(keys_page(frame, org, ctx.actions.list_keys(org.org_id)));
        }
        case AdminRoute::tokens_page:
            return tokens_view(ctx, std::move(frame));
        case AdminRoute::brokers_page:
            return page(brokers_page(frame, ctx.actions.brokers()));
        case AdminRoute::usage_page:
            return page(usage_page(frame, ctx.usage()));
        default:
            break;
    }
    return html_answer(404, error_page(frame, 404, "There is no such page."));
}

ApiResponse org_create(const AdminContext& ctx) {
    const NewOrganization created = audited(
        ctx, ctx.audit_entry("org.create"),
        [&] {
            const std::string ttl_text = form_value(ctx.form, "ttl");
            const std::int64_t ttl = ttl_text.empty() ? kDefaultTtlSeconds : checked_ttl(ttl_text);
            const std::string token_auth = form_value(ctx.form, "token_auth");
            const bool on = token_auth.empty() ? false : checked_on_off(token_auth);
            return ctx.actions.create_org(form_value(ctx.form, "name"), ttl, on, ctx.now);
        },
        [](AuditEntry& e, const NewOrganization& c) {
            e.org_id = c.org.org_id;
            e.key_id = c.first_key.key_id;
            e.ttl = c.org.ttl;
            e.token_auth = c.org.token_auth;
        });
    return page(org_created_page(frame_of(ctx), created));
}

ApiResponse org_token_auth(const AdminContext& ctx) {
    std::optional<bool> on;
    audited(
        ctx, ctx.audit_entry("org.update"),
        [&] {
            on = checked_on_off(form_value(ctx.form, "token_auth"));
            return ctx.actions.update_org(ctx.route.org_id, std::nullopt, on);
        },
        [&](AuditEntry& e, const Organization&) { e.token_auth = on; });
    return redirect(org_path(ctx, *on ? "?done=token-auth-on" : "?done=token-auth-off"));
}

ApiResponse org_ttl(const AdminContext& ctx) {
    std::optional<std::int64_t> ttl;
    audited(
        ctx, ctx.audit_entry("org.update"),
        [&] {
            ttl = checked_ttl(form_value(ctx.form, "ttl"));
            return ctx.actions.update_org(ctx.route.org_id, ttl, std::nullopt);
        },
        [&](AuditEntry& e, const Organization&) { e.ttl = ttl; });
    return redirect(org_path(ctx, "?done=ttl-changed"));
}

ApiResponse key_create(const AdminContext& ctx) {
    const Organization org = ctx.actions.get_org(ctx.route.org_id);
    const NewSecretKey key = audited(
        ctx, ctx.audit_entry("key.create"),
        [&] { return ctx.actions.create_key(org.org_id, ctx.now); },
        [](AuditEntry& e, const NewSecretKey& k) { e.key_id = k.key_id; });
    return page(key_created_page(frame_of(ctx), org, key));
}

ApiResponse key_import(const AdminContext& ctx) {
    audited(
        ctx, ctx.audit_entry("key.import"),
        [&] {
            return ctx.actions.import_key(ctx.route.org_id, form_value(ctx.form, "secret_key"),
                                          ctx.now);
        },
        [](AuditEntry& e, const SecretKeyInfo& k) { e.key_id = k.key_id; });
    return redirect(org_path(ctx, "/keys?done=key-imported"));
}

ApiResponse key_revoke(const AdminContext& ctx) {
    audited(ctx, ctx.audit_entry("key.revoke"),
            [&] { ctx.actions.revoke_key(ctx.route.org_id, ctx.route.key_id); });
    return redirect(org_path(ctx, "/keys?done=key-revoked"));
}

void count_revoked(AuditEntry& e, const std::vector<std::string>& ids) {
    e.revoked = ids.size();
}

ApiResponse token_revoke(const AdminContext& ctx) {
    const auto revoked = audited(
        ctx, ctx.audit_entry("token.revoke"),
        [&] { return ctx.actions.revoke_token(ctx.route.org_id, ctx.route.token_id, ctx.now); },
        count_revoked);
    return redirect(org_path(
        ctx, revoked.empty() ? "/tokens?done=token-not-live" : "/tokens?done=token-revoked"));
}

ApiResponse user_revoke(const AdminContext& ctx) {
    const std::string email = form_value(ctx.form, "email");
    const auto revoked = audited(
        ctx, ctx.audit_entry("user.revoke"),
        [&] { return ctx.actions.revoke_user(ctx.route.org_id, email, ctx.now); }, count_revoked);
    return redirect(org_path(ctx, "/tokens?email=")
                        .append(form_encode(checked_email(email)))
                        .append(revoked.empty() ? "&done=user-had-none" : "&done=user-revoked"));
}

ApiResponse change(const AdminContext& ctx) {
    switch (ctx.route.route) {
        case AdminRoute::org_create:
            return org_create(ctx);
        case AdminRoute::org_token_auth:
            return org_token_auth(ctx);
        case AdminRoute::org_ttl:
            return org_ttl(ctx);
        case AdminRoute::key_create:
            return key_create(ctx);
        case AdminRoute::key_import:
            return key_import(ctx);
        case AdminRoute::key_revoke:
            return key_revoke(ctx);
        case AdminRoute::token_revoke:
            return token_revoke(ctx);
        case AdminRoute::user_revoke:
            return user_revoke(ctx);
        default:
            break;
    }
    return html_answer(404, error_page(frame_of(ctx), 404, "There is no such page."));
}

// The page a failed form came from, showing `error` with its status.
ApiResponse form_page_with(const AdminContext& ctx, const ActionError& error) {
    Frame frame = frame_of(ctx);
    frame.error = error.what();
    const int status = error.status();
    try {
        switch (ctx.route.route) {
            case AdminRoute::org_create:
                return html_answer(status, orgs_page(frame, ctx.actions.list_orgs()));
            case AdminRoute::org_token_auth:
            case AdminRoute::org_ttl:
                return html_answer(status, org_page(frame, ctx.actions.get_org(ctx.route.org_id)));
            case AdminRoute::key_create:
            case AdminRoute::key_import:
            case AdminRoute::key_revoke: {
                const Organization org = ctx.actions.get_org(ctx.route.org_id);
                return html_answer(status,
                                   keys_page(frame, org, ctx.actions.list_keys(org.org_id)));
            }
            case AdminRoute::token_revoke:
            case AdminRoute::user_revoke: {
                const Organization org = ctx.actions.get_org(ctx.route.org_id);
                return html_answer(
                    status, tokens_page(frame, org, "",
                                        ctx.actions.list_tokens(org, std::nullopt, ctx.now)));
            }
            default:
                break;
        }
    } catch (const ActionError& again) {
        return html_answer(again.status(), error_page(frame, again.status(), again.what()));
    }
    return html_answer(status, error_page(frame, status, error.what()));
}

}  // namespace

std::string_view done_sentence(std::string_view code) {
    for (const Done& d : kDone) {
        if (d.code == code) {
            return d.sentence;
        }
    }
    return {};
}

ApiResponse serve_html(AdminContext& ctx) {
    try {
        ApiResponse r = ctx.route.state_change ? change(ctx) : view(ctx, frame_of(ctx));
        return r;
    } catch (const ActionError& e) {
        ApiResponse r =
            ctx.route.state_change
                ? form_page_with(ctx, e)
                : html_answer(e.status(), error_page(frame_of(ctx), e.status(), e.what()));
        r.error = e.code();
        return r;
    }
}

}  // namespace tka::tokend::admin
