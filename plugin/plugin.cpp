// mosquitto_token_auth.so: the Mosquitto 2.0 glue (plugin API version 5). Nothing but
// translation: broker events -> TokenAuthPlugin calls, decisions -> MOSQ_ERR_* codes,
// log lines -> mosquitto_log_printf with the "token-auth: " prefix, kicks ->
// mosquitto_kick_client_by_clientid. All behaviour lives in token_auth_plugin.cpp.
//
//   plugin /usr/lib/mosquitto_token_auth.so
//   plugin_opt_redis_url redis://127.0.0.1:6379
//   per_listener_settings false   (2.0.11 sends no TICK otherwise; fixed in 2.0.15)
//
// Requires Mosquitto >= 2.0. Every callback runs on the broker's single thread; no broker
// function is called from anywhere else. Only the entry points below are exported.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/options.hpp"
#include "plugin/token_auth_plugin.hpp"

#define TKA_PLUGIN_EXPORT __attribute__((visibility("default")))

namespace {

using tka::plugin::Access;
using tka::plugin::AclResult;
using tka::plugin::AuthDecision;
using tka::plugin::Handle;
using tka::plugin::LogLevel;

struct PluginContext {
    mosquitto_plugin_id_t* identifier = nullptr;
    std::unique_ptr<tka::plugin::TokenAuthPlugin> core;
    bool acl_registered = false;
};

int mosquitto_level(LogLevel level) {
    switch (level) {
        case LogLevel::error:
            return MOSQ_LOG_ERR;
        case LogLevel::warning:
            return MOSQ_LOG_WARNING;
        case LogLevel::notice:
            return MOSQ_LOG_NOTICE;
        case LogLevel::info:
            return MOSQ_LOG_INFO;
        case LogLevel::debug:
            return MOSQ_LOG_DEBUG;
    }
    return MOSQ_LOG_NOTICE;
}

void log_line(LogLevel level, const std::string& message) {
    mosquitto_log_printf(mosquitto_level(level), "token-auth: %s", message.c_str());
}

std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Handle handle_of(const struct mosquitto* client) {
    return reinterpret_cast<Handle>(client);
}

std::optional<std::string_view> optional_str(const char* s) {
    if (s == nullptr) {
        return std::nullopt;
    }
    return std::string_view(s);
}

int on_basic_auth(int /*event*/, void* event_data, void* userdata) {
    auto* ctx = static_cast<PluginContext*>(userdata);
    auto* ed = static_cast<struct mosquitto_evt_basic_auth*>(event_data);
    try {
        const AuthDecision decision = ctx->core->on_basic_auth(
            handle_of(ed->client), optional_str(mosquitto_client_id(ed->client)),
            optional_str(ed->username), optional_str(ed->password), unix_now_ms());
        switch (decision.kind) {
            case AuthDecision::Kind::defer:
                return MOSQ_ERR_PLUGIN_DEFER;
            case AuthDecision::Kind::allow:
                return MOSQ_ERR_SUCCESS;
            case AuthDecision::Kind::deny:
                return MOSQ_ERR_AUTH;
        }
        return MOSQ_ERR_AUTH;
    } catch (const std::exception& e) {
        // Only SUCCESS / AUTH give the client a CONNACK; anything else drops the socket.
        log_line(LogLevel::error, std::string("authentication failed internally: ") + e.what());
        return MOSQ_ERR_AUTH;
    } catch (...) {
        return MOSQ_ERR_AUTH;
    }
}

int on_acl_check(int /*event*/, void* event_data, void* userdata) {
    auto* ctx = static_cast<PluginContext*>(userdata);
    auto* ed = static_cast<struct mosquitto_evt_acl_check*>(event_data);
    Access access;
    switch (ed->access) {
        case MOSQ_ACL_READ:
            access = Access::read;
            break;
        case MOSQ_ACL_WRITE:
            access = Access::write;
            break;
        case MOSQ_ACL_SUBSCRIBE:
            access = Access::subscribe;
            break;
        case MOSQ_ACL_UNSUBSCRIBE:
            access = Access::unsubscribe;
            break;
        default:
            return MOSQ_ERR_PLUGIN_DEFER;
    }
    try {
        const std::string_view topic = ed->topic != nullptr ? ed->topic : "";
        switch (ctx->core->on_acl_check(handle_of(ed->client), topic, access)) {
            case AclResult::defer:
                return MOSQ_ERR_PLUGIN_DEFER;
            case AclResult::allow:
                return MOSQ_ERR_SUCCESS;
            case AclResult::deny:
                return MOSQ_ERR_ACL_DENIED;
        }
    } catch (...) {
    }
    return MOSQ_ERR_ACL_DENIED;
}

int on_tick(int /*event*/, void* /*event_data*/, void* userdata) {
    auto* ctx = static_cast<PluginContext*>(userdata);
    try {
        // The event's time fields are zero in 2.0.x: read the clock here.
        const std::vector<tka::plugin::Kick> kicks = ctx->core->on_tick(unix_now_ms());
        // Collected first, carried out now: each kick re-enters on_disconnect().
        for (const tka::plugin::Kick& kick : kicks) {
            if (!ctx->core->tracked(kick.handle)) {
                continue;  // already gone (an earlier kick, or a takeover)
            }
            if (kick.by_client_id) {
                // The handle is still tracked, so its DISCONNECT has not fired and the
                // context is alive: ask it for its current client id.
                const char* live_id =
                    mosquitto_client_id(reinterpret_cast<const struct mosquitto*>(kick.handle));
                const std::string client_id = live_id != nullptr ? live_id : kick.client_id;
                log_line(LogLevel::notice, "closing client '" + client_id + "' (token " +
                                               kick.token_id + "): " + kick.reason);
                mosquitto_kick_client_by_clientid(client_id.c_str(), false);
            }
            ctx->core->kicked(kick.handle);
        }
    } catch (const std::exception& e) {
        log_line(LogLevel::error, std::string("tick failed: ") + e.what());
    } catch (...) {
    }
    return MOSQ_ERR_SUCCESS;
}

int on_disconnect(int /*event*/, void* event_data, void* userdata) {
    auto* ctx = static_cast<PluginContext*>(userdata);
    auto* ed = static_cast<struct mosquitto_evt_disconnect*>(event_data);
    try {
        ctx->core->on_disconnect(handle_of(ed->client), unix_now_ms());
    } catch (...) {
    }
    return MOSQ_ERR_SUCCESS;
}

struct Registration {
    int event;
    MOSQ_FUNC_generic_callback callback;
};

std::vector<Registration> registrations(bool with_acl) {
    std::vector<Registration> out = {{MOSQ_EVT_BASIC_AUTH, on_basic_auth},
                                     {MOSQ_EVT_TICK, on_tick},
                                     {MOSQ_EVT_DISCONNECT, on_disconnect}};
    if (with_acl) {
        out.push_back({MOSQ_EVT_ACL_CHECK, on_acl_check});
    }
    return out;
}

void unregister_all(PluginContext& ctx) {
    for (const Registration& r : registrations(ctx.acl_registered)) {
        mosquitto_callback_unregister(ctx.identifier, r.event, r.callback, nullptr);
    }
}

}  // namespace

extern "C" {

TKA_PLUGIN_EXPORT int mosquitto_plugin_version(int supported_version_count,
                                               const int* supported_versions) {
    for (int i = 0; i < supported_version_count; ++i) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}

TKA_PLUGIN_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata,
                                            struct mosquitto_opt* options, int option_count) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (int i = 0; i < option_count; ++i) {
        pairs.emplace_back(options[i].key != nullptr ? options[i].key : "",
                           options[i].value != nullptr ? options[i].value : "");
    }
    auto ctx = std::make_unique<PluginContext>();
    ctx->identifier = identifier;
    try {
        tka::plugin::PluginConfig config = tka::plugin::parse_options(pairs);
        ctx->core = std::make_unique<tka::plugin::TokenAuthPlugin>(std::move(config), log_line);
    } catch (const std::exception& e) {
        log_line(LogLevel::error, e.what());
        return MOSQ_ERR_INVAL;
    }

    // Without ACL patterns the plugin has no say on topics: it does not even listen, so
    // Mosquitto's own default (or another plugin) decides exactly as without this plugin.
    const bool with_acl = ctx->core->acl_active();
    for (const Registration& r : registrations(with_acl)) {
        const int rc =
            mosquitto_callback_register(identifier, r.event, r.callback, nullptr, ctx.get());
        if (rc != MOSQ_ERR_SUCCESS) {
            log_line(LogLevel::error, "could not register callback for event " +
                                          std::to_string(r.event) + ": " + mosquitto_strerror(rc));
            ctx->acl_registered = with_acl;
            unregister_all(*ctx);
            return rc;
        }
    }
    ctx->acl_registered = with_acl;
    try {
        ctx->core->start();
    } catch (const std::exception& e) {
        log_line(LogLevel::error, std::string("could not start: ") + e.what());
        unregister_all(*ctx);
        return MOSQ_ERR_UNKNOWN;
    }
    *userdata = ctx.release();
    return MOSQ_ERR_SUCCESS;
}

TKA_PLUGIN_EXPORT int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt* /*options*/,
                                               int /*option_count*/) {
    std::unique_ptr<PluginContext> ctx(static_cast<PluginContext*>(userdata));
    if (!ctx) {
        return MOSQ_ERR_SUCCESS;
    }
    unregister_all(*ctx);
    if (ctx->core) {
        const auto& c = ctx->core->counters();
        log_line(LogLevel::info, "stopping: " + std::to_string(c.auth_allowed) + " allowed, " +
                                     std::to_string(c.auth_denied) + " denied, " +
                                     std::to_string(c.auth_deferred) + " deferred, " +
                                     std::to_string(c.kicks) + " closed; token replica: " +
                                     std::to_string(c.replica_hits) + " answered from memory, " +
                                     std::to_string(c.replica_fallbacks()) + " asked Redis");
        ctx->core->stop();
    }
    return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
