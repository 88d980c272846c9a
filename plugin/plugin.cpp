// mosquitto_token_auth.so: the Mosquitto glue (plugin API version 5). Nothing but
// translation: broker events -> TokenAuthPlugin calls, decisions -> MOSQ_ERR_* codes,
// log lines -> mosquitto_log_printf with the "token-auth: " prefix, kicks ->
// mosquitto_kick_client_by_clientid, counters -> mosquitto_broker_publish_copy on $SYS
// (what and when: sys_metrics.cpp). All behaviour lives in token_auth_plugin.cpp.
//
//   plugin /usr/lib/x86_64-linux-gnu/mosquitto_token_auth.so
//   plugin_opt_redis_url redis://127.0.0.1:6379
//
// Loads in Mosquitto 2.0.11 and later, 2.1.x included (docs/plugin.md, "Broker versions").
// It calls only functions every broker exports to plugins (each version's src/linker.syms;
// tests/compat checks the .so against the brokers it is tested with), never a libmosquitto
// client function such as mosquitto_strerror that only some builds happen to export.
// Mosquitto 2.1's additions are found at run time, so the same .so serves 2.0 and 2.1:
// - mosquitto_complete_basic_auth (looked up with dlsym): CONNECTs that need Redis are
//   answered MOSQ_ERR_AUTH_DELAYED and completed from the TICK; refusals carry MQTT 5
//   reason codes (server unavailable, server busy, connection rate exceeded) instead of
//   "not authorized" alone;
// - MOSQ_EVT_CONNECT and MOSQ_EVT_CLIENT_OFFLINE (registered when the broker knows them);
// - 2.1's scheduled ticks: see on_loop_pass.
// Every callback runs on the broker's single thread; no broker function is called from
// anywhere else. Only the entry points below are exported.
#include <dlfcn.h>
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

#include "plugin/log_text.hpp"
#include "plugin/options.hpp"
#include "plugin/sys_metrics.hpp"
#include "plugin/token_auth_plugin.hpp"

#define TKA_PLUGIN_EXPORT __attribute__((visibility("default")))

namespace {

using tka::plugin::Access;
using tka::plugin::AclResult;
using tka::plugin::AuthDecision;
using tka::plugin::Handle;
using tka::plugin::LogLevel;

// Mosquitto 2.1 names the headers of 2.0.11 (which this file compiles against) lack.
constexpr int kErrAuthDelayed = -5;         // MOSQ_ERR_AUTH_DELAYED
constexpr int kErrServerUnavailable = 136;  // MOSQ_ERR_SERVER_UNAVAILABLE (MQTT 5: 0x88)
constexpr int kErrServerBusy = 137;         // MOSQ_ERR_SERVER_BUSY (MQTT 5: 0x89)
constexpr int kErrRateExceeded = 159;       // MOSQ_ERR_CONNECTION_RATE_EXCEEDED (MQTT 5: 0x9F)
constexpr int kEvtConnect = 11;             // MOSQ_EVT_CONNECT
constexpr int kEvtClientOffline = 28;       // MOSQ_EVT_CLIENT_OFFLINE
// The data of MOSQ_EVT_CONNECT in 2.1 (client first, like mosquitto_evt_disconnect).
struct EvtConnect {
    void* future;
    struct mosquitto* client;
    void* future2[4];
};
using CompleteBasicAuth = void (*)(const char* client_id, int result);

struct PluginContext {
    mosquitto_plugin_id_t* identifier = nullptr;
    std::unique_ptr<tka::plugin::TokenAuthPlugin> core;
    // Mosquitto >= 2.1 (it exports mosquitto_complete_basic_auth).
    bool broker_2_1 = false;
    // Completes a delayed CONNECT: 2.1 with plugin_opt_delayed_auth on; else null.
    CompleteBasicAuth complete_basic_auth = nullptr;
    // 2.1: when on_tick is due again, in the broker's clock (CLOCK_REALTIME, ns).
    std::int64_t tick_due_ns = 0;
    // When the counters are next published on $SYS (plugin_opt_sys_interval).
    tka::plugin::SysSchedule sys_schedule{std::chrono::seconds(0)};
    // Events registered, each with its callback, for cleanup.
    std::vector<std::pair<int, MOSQ_FUNC_generic_callback>> registered;
};

// Mosquitto's return codes as words, for log lines (mosquitto_strerror is libmosquitto's,
// not the broker's).
std::string error_text(int rc) {
    switch (rc) {
        case MOSQ_ERR_NOMEM:
            return "out of memory";
        case MOSQ_ERR_INVAL:
            return "invalid arguments";
        case MOSQ_ERR_NOT_SUPPORTED:
            return "not supported by this broker";
        case MOSQ_ERR_ALREADY_EXISTS:
            return "already registered";
        default:
            return "error " + std::to_string(rc);
    }
}

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
            optional_str(ed->username), optional_str(ed->password), unix_now_ms(),
            optional_str(mosquitto_client_address(ed->client)));
        switch (decision.kind) {
            case AuthDecision::Kind::defer:
                return MOSQ_ERR_PLUGIN_DEFER;
            case AuthDecision::Kind::allow:
                return MOSQ_ERR_SUCCESS;
            case AuthDecision::Kind::delayed:
                return kErrAuthDelayed;
            case AuthDecision::Kind::deny:
                // 2.0 drops the socket without a CONNACK on any code but AUTH; 2.1 sends
                // these as MQTT 5 reason codes (MQTT 3.1.1 clients see "not authorized").
                if (ctx->broker_2_1) {
                    if (decision.reason == tka::Refusal::redis_unavailable) {
                        return kErrServerUnavailable;
                    }
                    if (decision.reason == tka::Refusal::busy) {
                        return kErrServerBusy;
                    }
                    if (decision.reason == tka::Refusal::backoff) {
                        return kErrRateExceeded;  // failed-auth backoff
                    }
                }
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

// Delayed CONNECTs whose Redis answer is back (Mosquitto >= 2.1). On success the broker
// fires MOSQ_EVT_CONNECT inside mosquitto_complete_basic_auth, which starts the tracking.
void complete_delayed(PluginContext& ctx) {
    for (const tka::plugin::Completion& c : ctx.core->take_completions()) {
        ctx.complete_basic_auth(c.client_id.c_str(), c.allowed ? MOSQ_ERR_SUCCESS : MOSQ_ERR_AUTH);
        ctx.core->completed(c.client_id);
    }
}

// The counters on $SYS/broker/token-auth/... when due (sys_metrics.hpp decides what).
void publish_sys(PluginContext& ctx) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    if (!ctx.sys_schedule.due(std::chrono::duration_cast<std::chrono::milliseconds>(now).count())) {
        return;
    }
    tka::plugin::SysSnapshot snapshot;
    snapshot.counters = ctx.core->counters();
    if (const tka::plugin::TokenReplica* replica = ctx.core->replica()) {
        snapshot.replica = replica->stats();
    }
    snapshot.connections = ctx.core->tracker().size();
    for (const tka::plugin::SysMessage& m : tka::plugin::sys_messages(snapshot)) {
        mosquitto_broker_publish_copy(nullptr, m.topic.c_str(), static_cast<int>(m.payload.size()),
                                      m.payload.data(), 0, true, nullptr);
    }
}

// The broker's clock in a 2.1 TICK event (CLOCK_REALTIME), in nanoseconds.
std::int64_t broker_time_ns(const struct mosquitto_evt_tick& ed) {
    return std::int64_t{ed.now_s} * 1000000000 + ed.now_ns;
}

int on_tick(int /*event*/, void* event_data, void* userdata) {
    auto* ctx = static_cast<PluginContext*>(userdata);
    auto* ed = static_cast<struct mosquitto_evt_tick*>(event_data);
    try {
        if (ctx->complete_basic_auth != nullptr) {
            complete_delayed(*ctx);
        }
        // The event's time fields are zero in 2.0.x: read the clock here. Collected first,
        // carried out after: each kick re-enters on_disconnect(). By client id only: a
        // handle is never read as a struct mosquitto* (it may be freed already).
        ctx->core->carry_out(ctx->core->on_tick(unix_now_ms()), [](const std::string& client_id) {
            mosquitto_kick_client_by_clientid(client_id.c_str(), false);
        });
        publish_sys(*ctx);
    } catch (const std::exception& e) {
        log_line(LogLevel::error, std::string("tick failed: ") + e.what());
    } catch (...) {
    }
    // Mosquitto 2.1 sleeps until the next event it knows of: ask for the next tick. 2.0
    // ticks every loop (at most 100 ms apart) and ignores the fields. The 2.0.11 header
    // calls the millisecond field next_ns; 2.1 names it next_ms (same place, same type).
    const int next_ms = ctx->core->next_tick_ms();
    ed->next_s = 0;
    ed->next_ns = next_ms;
    if (ctx->broker_2_1) {
        ctx->tick_due_ns = broker_time_ns(*ed) + std::int64_t{next_ms} * 1000000;
    }
    return MOSQ_ERR_SUCCESS;
}

// Mosquitto 2.1 runs a TICK callback only once the interval it asked for has passed, and
// sets its loop's sleep from the callbacks that ran in that pass only: when a socket wakes
// the loop before on_tick is due, that pass asks for no wake-up, and the broker may then
// sleep for seconds (until a keepalive or $SYS timer) with connections past their expiry
// or a CONNECT's answer waiting. So on 2.1 two more TICK callbacks come before on_tick:
// on_loop_pass asks for no interval, so it runs on every pass, and when on_tick is not
// due it registers on_tick anew: a new callback is due at once, runs later in this same
// pass (the list is walked in order and it is appended at the end) and sets the sleep.
// on_loop_spacer does nothing; it keeps on_tick from ever being the entry right after
// on_loop_pass, which the broker's walk holds on to while on_loop_pass runs (unregistering
// that entry would free it under the walk). So on_tick runs on every pass of a 2.1 loop,
// as it does on 2.0, and the broker never sleeps longer than on_tick asked.
int on_loop_pass(int /*event*/, void* event_data, void* userdata) {
    auto* ctx = static_cast<PluginContext*>(userdata);
    const auto* ed = static_cast<const struct mosquitto_evt_tick*>(event_data);
    if (broker_time_ns(*ed) <= ctx->tick_due_ns) {
        mosquitto_callback_unregister(ctx->identifier, MOSQ_EVT_TICK, on_tick, nullptr);
        const int rc =
            mosquitto_callback_register(ctx->identifier, MOSQ_EVT_TICK, on_tick, nullptr, ctx);
        if (rc != MOSQ_ERR_SUCCESS) {
            log_line(LogLevel::error,
                     "could not register the TICK callback again (" + error_text(rc) +
                         "): expired and revoked tokens are not disconnected until a restart");
        }
    }
    return MOSQ_ERR_SUCCESS;
}

int on_loop_spacer(int /*event*/, void* /*event_data*/, void* /*userdata*/) {
    return MOSQ_ERR_SUCCESS;
}

// MOSQ_EVT_DISCONNECT, and MOSQ_EVT_CLIENT_OFFLINE in 2.1 (a client with a persistent
// session going offline): both carry the client first, and either ends the connection.
int on_disconnect(int /*event*/, void* event_data, void* userdata) {
    auto* ctx = static_cast<PluginContext*>(userdata);
    auto* ed = static_cast<struct mosquitto_evt_disconnect*>(event_data);
    try {
        ctx->core->on_disconnect(handle_of(ed->client));
    } catch (...) {
    }
    return MOSQ_ERR_SUCCESS;
}

int on_connect(int /*event*/, void* event_data, void* userdata) {
    auto* ctx = static_cast<PluginContext*>(userdata);
    auto* ed = static_cast<EvtConnect*>(event_data);
    try {
        const char* id = mosquitto_client_id(ed->client);
        if (id != nullptr) {
            ctx->core->on_connect(handle_of(ed->client), id);
        }
    } catch (...) {
    }
    return MOSQ_ERR_SUCCESS;
}

struct Registration {
    int event;
    MOSQ_FUNC_generic_callback callback;
    bool required;  // false: an event older brokers do not know (MOSQ_ERR_NOT_SUPPORTED)
};

std::vector<Registration> registrations(bool with_acl, bool broker_2_1, bool delayed_auth) {
    std::vector<Registration> out = {{MOSQ_EVT_BASIC_AUTH, on_basic_auth, true}};
    if (broker_2_1) {  // in this order, before on_tick (see on_loop_pass)
        out.push_back({MOSQ_EVT_TICK, on_loop_pass, true});
        out.push_back({MOSQ_EVT_TICK, on_loop_spacer, true});
    }
    out.insert(out.end(), {{MOSQ_EVT_TICK, on_tick, true},
                           {MOSQ_EVT_DISCONNECT, on_disconnect, true},
                           {kEvtClientOffline, on_disconnect, false}});
    if (with_acl) {
        out.push_back({MOSQ_EVT_ACL_CHECK, on_acl_check, true});
    }
    if (delayed_auth) {
        out.push_back({kEvtConnect, on_connect, true});  // binds completed CONNECTs
    }
    return out;
}

void unregister_all(PluginContext& ctx) {
    for (const auto& [event, callback] : ctx.registered) {
        mosquitto_callback_unregister(ctx.identifier, event, callback, nullptr);
    }
    ctx.registered.clear();
}

// Registers every callback; on failure unregisters what was done and returns the code.
int register_all(PluginContext& ctx, bool with_acl) {
    for (const Registration& r :
         registrations(with_acl, ctx.broker_2_1, ctx.complete_basic_auth != nullptr)) {
        const int rc =
            mosquitto_callback_register(ctx.identifier, r.event, r.callback, nullptr, &ctx);
        if (rc == MOSQ_ERR_SUCCESS) {
            ctx.registered.emplace_back(r.event, r.callback);
        } else if (r.required || rc != MOSQ_ERR_NOT_SUPPORTED) {
            log_line(LogLevel::error, "could not register callback for event " +
                                          std::to_string(r.event) + ": " + error_text(rc));
            unregister_all(ctx);
            return rc;
        }
    }
    return MOSQ_ERR_SUCCESS;
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
        const bool want_delayed = config.delayed_auth;
        ctx->sys_schedule = tka::plugin::SysSchedule(config.sys_interval);
        ctx->core = std::make_unique<tka::plugin::TokenAuthPlugin>(std::move(config), log_line);
        // Mosquitto 2.1 is told by mosquitto_complete_basic_auth (delayed basic auth). The
        // broker executable exports it, so the global scope finds it even though 2.1 loads
        // plugins with RTLD_LOCAL; Mosquitto 2.0 has no such symbol.
        const auto complete = reinterpret_cast<CompleteBasicAuth>(
            ::dlsym(RTLD_DEFAULT, "mosquitto_complete_basic_auth"));
        ctx->broker_2_1 = complete != nullptr;
        if (ctx->broker_2_1 && want_delayed) {
            ctx->complete_basic_auth = complete;
            ctx->core->use_delayed_auth();
        }
    } catch (const std::exception& e) {
        log_line(LogLevel::error, e.what());
        return MOSQ_ERR_INVAL;
    }

    // Token clients are confined by default (options.hpp). Only with plugin_opt_acl_default
    // none and no patterns has the plugin no say on topics: it does not even listen, so
    // Mosquitto's own default (or another plugin) decides exactly as without this plugin.
    if (const int rc = register_all(*ctx, ctx->core->acl_active()); rc != MOSQ_ERR_SUCCESS) {
        return rc;
    }
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
