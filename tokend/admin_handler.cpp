// The admin listener's request pipeline: routing, Origin, sign-in, session, CSRF (see
// admin_handler.hpp).
#include "tokend/admin_handler.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "tokend/admin_api.hpp"
#include "tokend/admin_assets.hpp"
#include "tokend/admin_auth.hpp"
#include "tokend/admin_context.hpp"
#include "tokend/admin_html.hpp"
#include "tokend/admin_routes.hpp"
#include "tokend/form_body.hpp"
#include "tokend/request_parsing.hpp"

namespace tka::tokend::admin {

namespace {

// Longest name and password a sign-in checks; longer ones are wrong without hashing.
constexpr std::size_t kMaxLoginNameBytes = 256;
constexpr std::size_t kMaxLoginPasswordBytes = 1024;

ApiResponse refused(bool api, int status, std::string code, std::string sentence) {
    if (api) {
        return json_error(status, std::move(code), std::move(sentence));
    }
    ApiResponse r = html_answer(status, error_page(Frame{}, status, sentence));
    r.error = std::move(code);
    return r;
}

ApiResponse asset(std::string_view body, std::string_view content_type) {
    ApiResponse r;
    r.body = std::string(body);
    r.content_type = std::string(content_type);
    return r;
}

AuditEntry entry_of(std::string_view action, const std::string& admin, const std::string& remote,
                    std::string outcome = "ok") {
    AuditEntry e;
    e.action = std::string(action);
    e.admin = admin;
    e.remote = remote;
    e.outcome = std::move(outcome);
    return e;
}

struct Credentials {
    std::string name;
    std::string password;
};

// The name and password of a sign-in, or the answer refusing its body.
std::variant<Credentials, ApiResponse> credentials(const AdminRequest& request, bool api) {
    if (api) {
        if (!is_json_content_type(request.content_type)) {
            return json_error(415, "unsupported_media_type", "send application/json");
        }
        auto body = nlohmann::json::parse(request.body, nullptr, false);
        if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
            !body.contains("password") || !body["password"].is_string()) {
            return json_error(400, "invalid_request",
                              "expected a JSON object with the strings \"name\" and \"password\"");
        }
        return Credentials{body["name"].get<std::string>(), body["password"].get<std::string>()};
    }
    if (!is_form_content_type(request.content_type)) {
        return html_answer(415, login_page("Sign in with the form on this page."));
    }
    auto form = parse_form(request.body);
    if (!form.fields) {
        return html_answer(400, login_page("The sign-in form arrived damaged; try again."));
    }
    return Credentials{form_value(*form.fields, "name"), form_value(*form.fields, "password")};
}

}  // namespace

AdminHandler::AdminHandler(AdminOptions options, RequestLog& log)
    : options_(std::move(options)), log_(log) {}

ApiResponse AdminHandler::handle(const AdminRequest& request, RedisConnection& redis) {
    ApiResponse answer;
    try {
        answer = route(request, redis);
    } catch (const RedisError& e) {
        const bool api = find_admin_route(request.method, request.path).api;
        answer = refused(api, 503, "temporarily_unavailable",
                         "The database (Redis) did not answer; try again in a moment.");
        answer.headers.emplace_back("Retry-After", "1");
        answer.detail = e.what();
    }
    add_admin_security_headers(answer);
    return answer;
}

ApiResponse AdminHandler::route(const AdminRequest& request, RedisConnection& redis) {
    const RouteResult found = find_admin_route(request.method, request.path);
    if (!found.path_known) {
        return refused(found.api, 404, "not_found", "There is no such page.");
    }
    if (!found.match) {
        ApiResponse r =
            refused(found.api, 405, "method_not_allowed", "This page does not take that method.");
        r.headers.emplace_back("Allow", found.allow);
        return r;
    }
    const RouteMatch& match = *found.match;
    const std::string_view action = action_name(match.route);
    if (match.state_change && !origin_allowed(request.origin, request.host)) {
        if (!action.empty()) {
            audit(log_, entry_of(action, "", request.remote, "origin_mismatch"));
        }
        return refused(match.api, 403, "origin_mismatch",
                       "This request came from another site's page and was refused.");
    }
    switch (match.route) {
        case AdminRoute::asset_css:
            return asset(dashboard_css(), kCssContentType);
        case AdminRoute::asset_js:
            return asset(dashboard_js(), kJsContentType);
        case AdminRoute::login:
        case AdminRoute::api_login:
            return login(request, match.api, redis);
        default:
            break;
    }

    AdminStore admins(redis);
    const UnixSeconds now = unix_now();
    std::optional<AdminSession> session;
    const auto cookie = session_cookie(request.cookie);
    if (cookie) {
        session = admins.find_session(*cookie, now, options_.timeouts);
        if (session) {
            session->id = *cookie;
        }
    }
    if (match.route == AdminRoute::login_page) {
        return session ? redirect("/orgs") : html_answer(200, login_page(""));
    }
    if (!session) {
        ApiResponse r;
        if (match.api) {
            r = json_error(401, "unauthorized", "sign in first (POST /admin/api/login)");
        } else if (!match.state_change) {
            r = redirect("/");
        } else {
            r = html_answer(401, login_page(cookie ? "Your session has ended; sign in again."
                                                   : "Sign in first."));
        }
        if (cookie) {
            r.headers.emplace_back("Set-Cookie", cleared_cookie_header(options_.tls));
        }
        return r;
    }

    FormParse form = parse_form(match.state_change && !match.api ? std::string_view(request.body)
                                                                 : std::string_view(request.query));
    if (match.state_change && !match.api && !request.body.empty() &&
        !is_form_content_type(request.content_type)) {
        return refused(false, 415, "unsupported_media_type",
                       "This page takes HTML forms (application/x-www-form-urlencoded) only.");
    }
    if (!form.fields) {
        return refused(match.api, 400, "invalid_request", form.error);
    }
    if (match.state_change) {
        const auto field = form.fields->find("csrf");
        const std::string& given =
            !match.api && field != form.fields->end() ? field->second : request.csrf_header;
        if (!csrf_matches(session->csrf, given)) {
            audit(log_, entry_of(action, session->admin, request.remote, "csrf_failed"));
            return refused(match.api, 403, "csrf_failed",
                           "This form is out of date or came from elsewhere; reload the page and "
                           "try again.");
        }
    }
    if (match.route == AdminRoute::logout || match.route == AdminRoute::api_logout) {
        return logout(request, match.api, *session, admins);
    }

    Actions actions(redis, options_.fence);
    static const std::function<Usage()> kNoUsage = [] { return Usage{}; };
    AdminContext ctx{request,      match, *session,
                     actions,      log_,  options_.usage ? options_.usage : kNoUsage,
                     *form.fields, now};
    return match.api ? serve_api(ctx) : serve_html(ctx);
}

ApiResponse AdminHandler::login(const AdminRequest& request, bool api, RedisConnection& redis) {
    auto given = credentials(request, api);
    if (auto* answer = std::get_if<ApiResponse>(&given)) {
        return std::move(*answer);
    }
    const auto& [name, password] = std::get<Credentials>(given);
    AuditEntry entry = entry_of("login", "", request.remote);
    const auto now = LoginThrottle::Clock::now();
    if (auto d = throttle_.check(request.remote, name, now); !d.allowed) {
        entry.outcome = "throttled";
        audit(log_, entry);
        const std::string sentence =
            fmt::format("Too many failed sign-ins; try again in {} s.", d.retry_after_seconds);
        ApiResponse r = api ? json_error(429, "too_many_attempts", sentence)
                            : html_answer(429, login_page(sentence));
        r.error = "too_many_attempts";
        r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
        return r;
    }
    AdminStore admins(redis);
    const bool ok = !name.empty() && name.size() <= kMaxLoginNameBytes &&
                    password.size() <= kMaxLoginPasswordBytes && admins.verify(name, password);
    if (!ok) {
        throttle_.failure(request.remote, name, now);
        entry.outcome = "wrong_credentials";
        audit(log_, entry);
        const std::string sentence = "Wrong name or password.";
        return api ? json_error(401, "wrong_credentials", sentence)
                   : html_answer(401, login_page(sentence));
    }
    throttle_.success(request.remote, name, now);
    AdminSession session = admins.start_session(name, unix_now(), options_.timeouts);
    entry.admin = name;
    audit(log_, entry);
    ApiResponse r =
        api ? json_answer(200, nlohmann::json({{"admin", session.admin}, {"csrf", session.csrf}})
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
            : redirect("/orgs");
    r.headers.emplace_back("Set-Cookie", session_cookie_header(session.id, options_.tls));
    return r;
}

ApiResponse AdminHandler::logout(const AdminRequest& request, bool api, const AdminSession& session,
                                 AdminStore& admins) {
    admins.end_session(session.id);
    audit(log_, entry_of("logout", session.admin, request.remote));
    ApiResponse r = api ? json_answer(200, "{}") : redirect("/");
    r.headers.emplace_back("Set-Cookie", cleared_cookie_header(options_.tls));
    return r;
}

}  // namespace tka::tokend::admin
