// The JSON admin API (see admin_api.hpp).
#include "tokend/admin_api.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_views.hpp"
#include "tokend/request_parsing.hpp"

namespace tka::tokend::admin {

namespace {

using nlohmann::json;

std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiResponse ok(const json& value, int status = 200) {
    return json_answer(status, dump(value));
}

// The request's JSON object; an empty body is {}.
json body_object(const AdminContext& ctx) {
    if (ctx.request.body.empty()) {
        return json::object();
    }
    if (!is_json_content_type(ctx.request.content_type)) {
        throw ActionError(415, "unsupported_media_type", "send application/json");
    }
    json body = json::parse(ctx.request.body, nullptr, false);
    if (!body.is_object()) {
        throw ActionError(400, "invalid_request", "the body must be a JSON object");
    }
    return body;
}

std::string string_field(const json& body, const char* name) {
    if (!body.contains(name) || !body[name].is_string()) {
        throw ActionError(400, "invalid_request", fmt::format("\"{}\" must be a string", name));
    }
    return body[name].get<std::string>();
}

// "ttl": a whole number of seconds, checked by the same parser as everywhere.
std::optional<std::int64_t> ttl_field(const json& body) {
    if (!body.contains("ttl")) {
        return std::nullopt;
    }
    const json& ttl = body["ttl"];
    return checked_ttl(ttl.is_number_integer() ? ttl.dump() : std::string());
}

std::optional<bool> token_auth_field(const json& body) {
    if (!body.contains("token_auth")) {
        return std::nullopt;
    }
    if (!body["token_auth"].is_boolean()) {
        throw ActionError(400, "invalid_request", "\"token_auth\" must be true or false");
    }
    return body["token_auth"].get<bool>();
}

json ids_json(const std::vector<std::string>& ids) {
    json array = json::array();
    for (const auto& id : ids) {
        array.push_back(id);
    }
    return array;
}

json brokers_json(const ReplicaRegistry& registry) {
    json replicas = json::array();
    for (const auto& r : registry.replicas) {
        replicas.push_back({{"replica_id", r.replica_id},
                            {"heartbeat_ms", r.heartbeat_ms},
                            {"heartbeat_age_ms", r.heartbeat_age_ms},
                            {"applied_id", r.applied_id},
                            {"lag_events", r.lag_events ? json(*r.lag_events) : json(nullptr)},
                            {"lag_ms", r.lag_ms},
                            {"fresh", r.fresh}});
    }
    return {{"stream_last_id", registry.stream_last_id},
            {"server_now_ms", registry.server_now_ms},
            {"replicas", replicas}};
}

json usage_json(const Usage& usage) {
    json series = json::array();
    for (const auto& s : usage.series) {
        series.push_back(
            {{"name", s.name}, {"id", s.id}, {"per_interval", s.per_interval}, {"total", s.total}});
    }
    return {{"interval_seconds", usage.interval_seconds}, {"series", series}};
}

ApiResponse org_create(AdminContext& ctx) {
    const NewOrganization created = audited(
        ctx, ctx.audit_entry("org.create"),
        [&] {
            const json body = body_object(ctx);
            const std::string name = string_field(body, "name");
            const std::int64_t ttl = ttl_field(body).value_or(kDefaultTtlSeconds);
            const bool token_auth = token_auth_field(body).value_or(false);
            return ctx.actions.create_org(name, ttl, token_auth, ctx.now);
        },
        [](AuditEntry& e, const NewOrganization& c) {
            e.org_id = c.org.org_id;
            e.key_id = c.first_key.key_id;
            e.ttl = c.org.ttl;
            e.token_auth = c.org.token_auth;
        });
    json answer = org_json(created.org);
    answer["key_id"] = created.first_key.key_id;
    answer["secret_key"] = created.first_key.secret_key;
    return ok(answer, 201);
}

ApiResponse org_update(AdminContext& ctx) {
    std::optional<std::int64_t> ttl;
    std::optional<bool> token_auth;
    const Organization org = audited(
        ctx, ctx.audit_entry("org.update"),
        [&] {
            const json body = body_object(ctx);
            ttl = ttl_field(body);
            token_auth = token_auth_field(body);
            return ctx.actions.update_org(ctx.route.org_id, ttl, token_auth);
        },
        [&](AuditEntry& e, const Organization&) {
            e.ttl = ttl;
            e.token_auth = token_auth;
        });
    return ok(org_json(org));
}

ApiResponse keys(AdminContext& ctx) {
    json array = json::array();
    for (const auto& key : ctx.actions.list_keys(ctx.route.org_id)) {
        array.push_back(key_json(key));
    }
    return ok(array);
}

ApiResponse key_create(AdminContext& ctx) {
    const NewSecretKey key = audited(
        ctx, ctx.audit_entry("key.create"),
        [&] { return ctx.actions.create_key(ctx.route.org_id, ctx.now); },
        [](AuditEntry& e, const NewSecretKey& k) { e.key_id = k.key_id; });
    return ok({{"key_id", key.key_id}, {"secret_key", key.secret_key}}, 201);
}

ApiResponse key_import(AdminContext& ctx) {
    const SecretKeyInfo key = audited(
        ctx, ctx.audit_entry("key.import"),
        [&] {
            const std::string secret = string_field(body_object(ctx), "secret_key");
            return ctx.actions.import_key(ctx.route.org_id, secret, ctx.now);
        },
        [](AuditEntry& e, const SecretKeyInfo& k) { e.key_id = k.key_id; });
    return ok({{"key_id", key.key_id}}, 201);
}

ApiResponse key_revoke(AdminContext& ctx) {
    audited(ctx, ctx.audit_entry("key.revoke"),
            [&] { ctx.actions.revoke_key(ctx.route.org_id, ctx.route.key_id); });
    return ok({{"revoked", ctx.route.key_id}});
}

ApiResponse tokens(AdminContext& ctx) {
    const Organization org = ctx.actions.get_org(ctx.route.org_id);
    std::optional<std::string> email;
    if (ctx.form.count("email") && !ctx.form.at("email").empty()) {
        email = checked_email(ctx.form.at("email"));
    }
    json array = json::array();
    for (const auto& token : ctx.actions.list_tokens(org, email, ctx.now)) {
        array.push_back(token_json(token));
    }
    return ok(array);
}

void count_revoked(AuditEntry& e, const std::vector<std::string>& ids) {
    e.revoked = ids.size();
}

ApiResponse token_revoke(AdminContext& ctx) {
    const auto revoked = audited(
        ctx, ctx.audit_entry("token.revoke"),
        [&] { return ctx.actions.revoke_token(ctx.route.org_id, ctx.route.token_id, ctx.now); },
        count_revoked);
    return ok({{"revoked", ids_json(revoked)}});
}

ApiResponse user_revoke(AdminContext& ctx) {
    const auto revoked = audited(
        ctx, ctx.audit_entry("user.revoke"),
        [&] {
            const std::string email = string_field(body_object(ctx), "email");
            return ctx.actions.revoke_user(ctx.route.org_id, email, ctx.now);
        },
        count_revoked);
    return ok({{"revoked", ids_json(revoked)}});
}

ApiResponse dispatch(AdminContext& ctx) {
    switch (ctx.route.route) {
        case AdminRoute::api_session:
            return ok({{"admin", ctx.session.admin}, {"csrf", ctx.session.csrf}});
        case AdminRoute::api_orgs: {
            json array = json::array();
            for (const auto& org : ctx.actions.list_orgs()) {
                array.push_back(org_json(org));
            }
            return ok(array);
        }
        case AdminRoute::api_org_create:
            return org_create(ctx);
        case AdminRoute::api_org:
            return ok(org_json(ctx.actions.get_org(ctx.route.org_id)));
        case AdminRoute::api_org_update:
            return org_update(ctx);
        case AdminRoute::api_keys:
            return keys(ctx);
        case AdminRoute::api_key_create:
            return key_create(ctx);
        case AdminRoute::api_key_import:
            return key_import(ctx);
        case AdminRoute::api_key_revoke:
            return key_revoke(ctx);
        case AdminRoute::api_tokens:
            return tokens(ctx);
        case AdminRoute::api_token_revoke:
            return token_revoke(ctx);
        case AdminRoute::api_user_revoke:
            return user_revoke(ctx);
        case AdminRoute::api_brokers:
            return ok(brokers_json(ctx.actions.brokers()));
        case AdminRoute::api_usage:
            return ok(usage_json(ctx.usage()));
        default:
            break;
    }
    return json_error(404, "not_found", "There is no such page.");
}

}  // namespace

ApiResponse serve_api(AdminContext& ctx) {
    try {
        ApiResponse r = dispatch(ctx);
        r.org_id = ctx.route.org_id.size() <= 64 ? ctx.route.org_id : std::string();
        return r;
    } catch (const ActionError& e) {
        return json_error(e.status(), e.code(), e.what());
    }
}

}  // namespace tka::tokend::admin
