// The dashboard's HTML (see admin_pages.hpp): one function per page, built from a shared
// frame (head, skip link, navigation, session, flash and error) so every page looks and
// behaves the same. Every value that comes from data passes through html_escape, and every
// value put into a URL is percent-encoded first. No inline script or style: the
// Content-Security-Policy tokend sends allows only the two embedded assets.
#include "tokend/admin_pages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "common/display_name.hpp"
#include "common/time_format.hpp"

namespace tka::tokend::admin {

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

namespace {

// Which navigation link is the current page's.
enum class Section { none, orgs, brokers, usage };

// RFC 3986 unreserved characters stay, everything else is %XX: safe in a path segment and
// in a query value whatever the data holds.
std::string url_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        }
    }
    return out;
}

std::string org_path(const Organization& org) {
    return std::string("/orgs/").append(url_encode(org.org_id));
}

// "in 58 min", "3 s ago", "now": a rough hint next to an exact time.
std::string relative(std::int64_t delta_seconds) {
    if (delta_seconds == 0) {
        return "now";
    }
    const std::int64_t a = std::llabs(delta_seconds);
    std::string amount;
    if (a < 60) {
        amount = fmt::format("{} s", a);
    } else if (a < 3600) {
        amount = fmt::format("{} min", a / 60);
    } else if (a < 2 * 86400) {
        amount = fmt::format("{} h", a / 3600);
    } else {
        amount = fmt::format("{} d", a / 86400);
    }
    return delta_seconds > 0 ? std::string("in ").append(amount) : amount.append(" ago");
}

// A length of time as a person reads it: 3600 -> "1 h", 90 -> "1 min 30 s".
std::string duration_text(std::int64_t seconds) {
    struct Unit {
        std::int64_t size;
        const char* name;
    };
    static constexpr Unit kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}};
    std::string out;
    std::int64_t left = seconds;
    for (const Unit& u : kUnits) {
        if (left >= u.size) {
            if (!out.empty()) {
                out += ' ';
            }
            out += fmt::format("{} {}", left / u.size, u.name);
            left %= u.size;
        }
    }
    return out.empty() ? std::string("0 s") : out;
}

// <time> with the exact RFC 3339 instant and, when `now` is known, a relative hint.
std::string time_html(UnixSeconds t, UnixSeconds now) {
    const std::string exact = format_rfc3339(t);
    std::string out = fmt::format("<span class=\"when\"><time datetime=\"{0}\">{0}</time>", exact);
    if (now > 0) {
        out += fmt::format(" <span class=\"hint\">({})</span>", relative(t - now));
    }
    out += "</span>";
    return out;
}

std::string csrf_field(const Frame& frame) {
    return fmt::format("<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
                       html_escape(frame.csrf));
}

void append_nav_link(std::string& out, std::string_view href, std::string_view text, bool current) {
    out += fmt::format("<li><a href=\"{}\"{}>{}</a></li>", href,
                       current ? " aria-current=\"page\"" : "", text);
}

// Everything before a page's own content: the document head, the skip link, the header
// with navigation and session (signed-in pages only), then <main> with #flash and #error.
std::string open_page(std::string_view title, const Frame* frame, Section section) {
    std::string out =
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += fmt::format("<title>{} · token auth</title>\n", html_escape(title));
    out +=
        "<link rel=\"stylesheet\" href=\"/assets/dashboard.css\">\n"
        "<script src=\"/assets/dashboard.js\" defer></script>\n"
        "</head>\n<body>\n"
        "<a class=\"skip-link\" href=\"#main\">Skip to content</a>\n"
        "<header class=\"site\">\n<p class=\"brand\">Token auth</p>\n";
    if (frame != nullptr && !frame->admin.empty()) {
        out += "<nav aria-label=\"Main\"><ul>";
        append_nav_link(out, "/orgs", "Organizations", section == Section::orgs);
        append_nav_link(out, "/brokers", "Brokers", section == Section::brokers);
        append_nav_link(out, "/usage", "Usage", section == Section::usage);
        out += "</ul></nav>\n";
        out += fmt::format(
            "<div class=\"session\"><span>Signed in as <strong id=\"whoami\">{}</strong></span>\n"
            "<form id=\"logout\" method=\"post\" action=\"/logout\">{}"
            "<button type=\"submit\">Sign out</button></form></div>\n",
            html_escape(frame->admin), csrf_field(*frame));
    }
    out += "</header>\n<main id=\"main\" tabindex=\"-1\">\n";
    if (frame != nullptr && !frame->flash.empty()) {
        out += fmt::format("<p id=\"flash\" role=\"status\">{}</p>\n", html_escape(frame->flash));
    }
    if (frame != nullptr && !frame->error.empty()) {
        out += fmt::format("<p id=\"error\" role=\"alert\">{}</p>\n", html_escape(frame->error));
    }
    return out;
}

std::string close_page() {
    return "</main>\n</body>\n</html>\n";
}

std::string on_off(bool on) {
    return on ? "On" : "Off";
}

std::string empty_row(int columns, std::string_view text) {
    return fmt::format("<tr class=\"empty\"><td colspan=\"{}\">{}</td></tr>\n", columns, text);
}

// The secret shown once, with the copy button the script reveals (hidden without JS).
std::string secret_once(std::string_view secret) {
    return fmt::format(
        "<p class=\"once\"><strong>Copy this secret key now.</strong> It is shown only once: "
        "tokend keeps only a digest of it and cannot show it again. If it is lost, create a "
        "new key and revoke this one.</p>\n"
        "<div class=\"secret\"><code id=\"new-secret-key\">{}</code>\n"
        "<button type=\"button\" id=\"copy-secret\" hidden>Copy secret key</button>\n"
        "<span id=\"copy-status\" aria-live=\"polite\"></span></div>\n",
        html_escape(secret));
}

// The prefix of a secret key (its first characters, safe to show) once SecretKeyInfo has
// one; "" until then.
template <typename Key>
std::string key_prefix(const Key& key) {
    if constexpr (requires { key.prefix; }) {
        return std::string(key.prefix);
    } else {
        return {};
    }
}

bool is_live(const TokenRecord& t, UnixSeconds now) {
    return t.status == "active" && (now <= 0 || t.expires_at > now);
}

std::string status_word(const TokenRecord& t, UnixSeconds now) {
    if (is_live(t, now)) {
        return "Live";
    }
    if (t.status == "active" || t.status == "expired") {
        return "Expired";
    }
    if (t.status == "revoked") {
        return "Revoked";
    }
    if (t.status == "replaced") {
        return "Replaced";
    }
    return t.status;
}

std::string status_class(const TokenRecord& t, UnixSeconds now) {
    if (is_live(t, now)) {
        return "live";
    }
    if (t.status == "revoked" || t.status == "replaced") {
        return "ended";
    }
    return "expired";
}

// "0.3 s ago" under 10 s, whole units above.
std::string age_text(std::int64_t age_ms) {
    if (age_ms < 10000) {
        return fmt::format("{:.1f} s ago", static_cast<double>(age_ms) / 1000.0);
    }
    return relative(-(age_ms / 1000));
}

enum class BrokerState { in_sync, behind, stale };

BrokerState broker_state(const ReplicaStatus& r) {
    if (!r.fresh) {
        return BrokerState::stale;
    }
    if (!r.lag_events || *r.lag_events > 0) {
        return BrokerState::behind;
    }
    return BrokerState::in_sync;
}

std::string lag_events_text(const ReplicaStatus& r) {
    if (!r.lag_events) {
        return r.applied_id.empty() ? "not reported" : "unknown (trimmed from the stream)";
    }
    if (*r.lag_events >= kLagCountLimit) {
        return fmt::format("at least {}", kLagCountLimit);
    }
    return fmt::format("{}", *r.lag_events);
}

// A chart spans at least this many intervals, so a young history draws thin bars at the right
// end instead of a few wide ones.
constexpr std::size_t kMinChartSlots = 60;

// One inline SVG bar chart: the newest interval on the right, bars scaled to the largest.
std::string chart_svg(const UsageSeries& s, std::int64_t interval_seconds) {
    constexpr int kWidth = 720;
    constexpr int kHeight = 120;
    const std::size_t n = s.per_interval.size();
    const std::size_t slots = std::max(n, kMinChartSlots);
    const std::uint64_t peak =
        n == 0 ? 0 : *std::max_element(s.per_interval.begin(), s.per_interval.end());
    const std::uint64_t last = n == 0 ? 0 : s.per_interval.back();
    const double slot_width = static_cast<double>(kWidth) / static_cast<double>(slots);
    std::uint64_t sum = 0;
    for (const std::uint64_t v : s.per_interval) {
        sum += v;
    }
    const std::string title =
        n == 0 ? fmt::format("{}: no interval counted yet", s.name)
               : fmt::format(
                     "{}: {} in the last {} (one bar per {} s, newest on the right); at most {} "
                     "in one interval; {} in the last interval",
                     s.name, sum, duration_text(static_cast<std::int64_t>(n) * interval_seconds),
                     interval_seconds, peak, last);
    std::string out = fmt::format(
        "<svg class=\"chart\" id=\"chart-{0}\" role=\"img\" aria-labelledby=\"chart-{0}-title\" "
        "viewBox=\"0 0 {1} {2}\" preserveAspectRatio=\"none\">\n"
        "<title id=\"chart-{0}-title\">{3}</title>\n"
        "<rect class=\"chart-bg\" x=\"0\" y=\"0\" width=\"{1}\" height=\"{2}\"></rect>\n",
        html_escape(s.id), kWidth, kHeight, html_escape(title));
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t v = s.per_interval[i];
        if (v == 0 || peak == 0) {
            continue;
        }
        const double h =
            std::max(1.0, static_cast<double>(v) * (kHeight - 4) / static_cast<double>(peak));
        const double x = static_cast<double>(slots - n + i) * slot_width;
        out += fmt::format(
            "<rect class=\"bar\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\">"
            "<title>{}</title></rect>\n",
            x, kHeight - h, std::max(slot_width - 1.0, 0.5), h, v);
    }
    out += fmt::format(
        "<line class=\"axis\" x1=\"0\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\"></line>\n</svg>\n",
        kHeight - 0.5, kWidth);
    return out;
}

}  // namespace

std::string login_page(std::string_view error) {
    Frame frame;
    frame.error = std::string(error);
    std::string out = open_page("Sign in", &frame, Section::none);
    out +=
        "<h1>Sign in</h1>\n"
        "<form id=\"login\" class=\"stacked\" method=\"post\" action=\"/login\">\n"
        "<label for=\"login-name\">Name</label>\n"
        "<input id=\"login-name\" name=\"name\" type=\"text\" autocomplete=\"username\" "
        "autocapitalize=\"none\" spellcheck=\"false\" required autofocus>\n"
        "<label for=\"login-password\">Password</label>\n"
        "<input id=\"login-password\" name=\"password\" type=\"password\" "
        "autocomplete=\"current-password\" required>\n"
        "<button type=\"submit\">Sign in</button>\n"
        "</form>\n"
        "<p class=\"note\">Accounts are created on the server with "
        "<code>tokenctl admin create --name NAME</code>.</p>\n";
    out += close_page();
    return out;
}

std::string orgs_page(const Frame& frame, const std::vector<Organization>& orgs) {
    std::string out = open_page("Organizations", &frame, Section::orgs);
    out +=
        "<h1>Organizations</h1>\n"
        "<div class=\"table-wrap\"><table id=\"orgs\">\n"
        "<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Id</th>"
        "<th scope=\"col\">Token auth</th><th scope=\"col\">Token TTL</th>"
        "<th scope=\"col\">Created</th></tr></thead>\n<tbody>\n";
    for (const Organization& org : orgs) {
        out += fmt::format(
            "<tr data-org-id=\"{0}\"><td data-label=\"Name\"><a href=\"{1}\">{2}</a></td>"
            "<td data-label=\"Id\"><code>{0}</code></td><td data-label=\"Token auth\">"
            "<span class=\"state state-{3}\">{4}</span></td><td data-label=\"Token TTL\">{5}</td>"
            "<td data-label=\"Created\">{6}</td></tr>\n",
            html_escape(org.org_id), html_escape(org_path(org)), html_escape(org.name),
            org.token_auth ? "on" : "off", on_off(org.token_auth),
            html_escape(duration_text(org.ttl)), time_html(org.created_at, frame.now));
    }
    if (orgs.empty()) {
        out += empty_row(5, "Nothing here yet: create the first organization below.");
    }
    out += "</tbody></table></div>\n";
    out += fmt::format(
        "<section aria-labelledby=\"create-org-heading\">\n"
        "<h2 id=\"create-org-heading\">Create an organization</h2>\n"
        "<form id=\"create-org\" class=\"stacked\" method=\"post\" action=\"/orgs\">{}\n"
        "<label for=\"create-org-name\">Name</label>\n"
        "<input id=\"create-org-name\" name=\"name\" type=\"text\" maxlength=\"{}\" required>\n"
        "<label for=\"create-org-ttl\">Token TTL in seconds</label>\n"
        "<input id=\"create-org-ttl\" name=\"ttl\" type=\"number\" inputmode=\"numeric\" "
        "min=\"{}\" max=\"{}\" value=\"{}\" required "
        "aria-describedby=\"create-org-ttl-help\">\n"
        "<p id=\"create-org-ttl-help\" class=\"help\">How long a token works; 3600 is 1 hour, "
        "at most 30 days.</p>\n"
        "<div class=\"check\"><input id=\"create-org-token-auth\" name=\"token_auth\" "
        "type=\"checkbox\" value=\"on\">\n"
        "<label for=\"create-org-token-auth\">Turn token auth on now</label></div>\n"
        "<button type=\"submit\">Create organization</button>\n"
        "</form>\n</section>\n",
        csrf_field(frame), kMaxOrgNameBytes, kMinTtlSeconds, kMaxTtlSeconds, kDefaultTtlSeconds);
    out += close_page();
    return out;
}

std::string org_created_page(const Frame& frame, const NewOrganization& created) {
    const Organization& org = created.org;
    std::string out = open_page("Organization created", &frame, Section::orgs);
    out += fmt::format(
        "<h1>Organization created: {}</h1>\n"
        "<dl class=\"facts\"><dt>Id</dt><dd><code id=\"new-org-id\">{}</code></dd>\n"
        "<dt>Token auth</dt><dd>{}</dd><dt>Token TTL</dt><dd>{}</dd>\n"
        "<dt>Secret key id</dt><dd><code>{}</code></dd></dl>\n",
        html_escape(org.name), html_escape(org.org_id), on_off(org.token_auth),
        html_escape(duration_text(org.ttl)), html_escape(created.first_key.key_id));
    out += secret_once(created.first_key.secret_key);
    out += fmt::format("<p><a href=\"{}\">Go to the organization {}</a></p>\n",
                       html_escape(org_path(org)), html_escape(org.name));
    out += close_page();
    return out;
}

std::string org_page(const Frame& frame, const Organization& org) {
    const std::string base = html_escape(org_path(org));
    std::string out = open_page(org.name, &frame, Section::orgs);
    out += fmt::format(
        "<p class=\"crumbs\"><a href=\"/orgs\">Organizations</a></p>\n"
        "<h1>{}</h1>\n"
        "<dl class=\"facts\"><dt>Id</dt><dd><code>{}</code></dd>\n"
        "<dt>Created</dt><dd>{}</dd>\n"
        "<dt>Token TTL</dt><dd>{} ({} s)</dd>\n"
        "<dt>Token auth</dt><dd><span id=\"token-auth-state\" class=\"state state-{}\">{}</span>"
        "</dd></dl>\n",
        html_escape(org.name), html_escape(org.org_id), time_html(org.created_at, frame.now),
        html_escape(duration_text(org.ttl)), org.ttl, org.token_auth ? "on" : "off",
        on_off(org.token_auth));
    out += fmt::format(
        "<section aria-labelledby=\"token-auth-heading\">\n"
        "<h2 id=\"token-auth-heading\">Token auth</h2>\n"
        "<p class=\"help\">{}</p>\n"
        "<form id=\"token-auth\" method=\"post\" action=\"{}/token-auth\">{}"
        "<input type=\"hidden\" name=\"token_auth\" value=\"{}\">"
        "<button type=\"submit\" id=\"token-auth-toggle\">{}</button></form>\n</section>\n",
        org.token_auth
            ? "Token auth is on: brokers accept this organization's tokens. Turning it off "
              "refuses new token connections and closes the live ones at once."
            : "Token auth is off: brokers refuse this organization's tokens and tokend mints "
              "none. Turning it on lets its backends create tokens.",
        base, csrf_field(frame), org.token_auth ? "off" : "on",
        org.token_auth ? "Turn off" : "Turn on");
    out += fmt::format(
        "<section aria-labelledby=\"ttl-heading\">\n"
        "<h2 id=\"ttl-heading\">Token TTL</h2>\n"
        "<form id=\"ttl\" class=\"inline\" method=\"post\" action=\"{}/ttl\">{}\n"
        "<label for=\"ttl-seconds\">Seconds</label>\n"
        "<input id=\"ttl-seconds\" name=\"ttl\" type=\"number\" inputmode=\"numeric\" min=\"{}\" "
        "max=\"{}\" value=\"{}\" required aria-describedby=\"ttl-help\">\n"
        "<button type=\"submit\">Save TTL</button></form>\n"
        "<p id=\"ttl-help\" class=\"help\">Applies to tokens created or refreshed from now on; "
        "from 1 s to 30 days.</p>\n</section>\n",
        base, csrf_field(frame), kMinTtlSeconds, kMaxTtlSeconds, org.ttl);
    out += fmt::format(
        "<section aria-labelledby=\"more-heading\">\n<h2 id=\"more-heading\">More</h2>\n"
        "<ul class=\"links\"><li><a href=\"{0}/keys\">Secret keys</a></li>"
        "<li><a href=\"{0}/tokens\">Tokens</a></li></ul>\n</section>\n",
        base);
    out += close_page();
    return out;
}

std::string keys_page(const Frame& frame, const Organization& org,
                      const std::vector<SecretKeyInfo>& keys) {
    const std::string base = html_escape(org_path(org));
    std::string out =
        open_page(std::string("Secret keys of ").append(org.name), &frame, Section::orgs);
    out += fmt::format(
        "<p class=\"crumbs\"><a href=\"/orgs\">Organizations</a> / <a href=\"{}\">{}</a></p>\n"
        "<h1>Secret keys of {}</h1>\n"
        "<div class=\"table-wrap\"><table id=\"keys\">\n"
        "<thead><tr><th scope=\"col\">Key id</th><th scope=\"col\">Begins with</th>"
        "<th scope=\"col\">Created</th><th scope=\"col\">Kind</th>"
        "<th scope=\"col\"><span class=\"visually-hidden\">Action</span></th></tr></thead>\n"
        "<tbody>\n",
        base, html_escape(org.name), html_escape(org.name));
    for (const SecretKeyInfo& key : keys) {
        const std::string prefix = key_prefix(key);
        out += fmt::format(
            "<tr data-key-id=\"{0}\"><td data-label=\"Key id\"><code>{0}</code></td>"
            "<td data-label=\"Begins with\">{1}</td><td data-label=\"Created\">{2}</td>"
            "<td data-label=\"Kind\">{3}</td><td class=\"action\"><form class=\"revoke-key\" "
            "method=\"post\" "
            "action=\"{4}/keys/{5}/revoke\">{6}<button type=\"submit\" class=\"danger\" "
            "aria-label=\"Revoke key {0}\">Revoke</button></form></td></tr>\n",
            html_escape(key.key_id),
            prefix.empty() ? std::string("—")
                           : std::string("<code>").append(html_escape(prefix)).append("…</code>"),
            time_html(key.created_at, frame.now),
            key.legacy ? "Legacy (imported cs_ key)" : "Secret key", base,
            html_escape(url_encode(key.key_id)), csrf_field(frame));
    }
    if (keys.empty()) {
        out += empty_row(5, "Nothing here yet: this organization has no secret key.");
    }
    out += "</tbody></table></div>\n";
    out += fmt::format(
        "<p class=\"help\">Revoking a key makes every request signed with it fail at once; "
        "tokens already minted keep working until they expire.</p>\n"
        "<section aria-labelledby=\"create-key-heading\">\n"
        "<h2 id=\"create-key-heading\">New key</h2>\n"
        "<form id=\"create-key\" method=\"post\" action=\"{0}/keys\">{1}"
        "<button type=\"submit\">Create a secret key</button></form>\n</section>\n"
        "<section aria-labelledby=\"import-key-heading\">\n"
        "<h2 id=\"import-key-heading\">Import a legacy key</h2>\n"
        "<form id=\"import-key\" class=\"inline\" method=\"post\" action=\"{0}/keys/import\">{1}\n"
        "<label for=\"import-secret-key\">Legacy key (cs_…)</label>\n"
        "<input id=\"import-secret-key\" name=\"secret_key\" type=\"password\" "
        "autocomplete=\"off\" spellcheck=\"false\" required>\n"
        "<button type=\"submit\">Import key</button></form>\n</section>\n",
        base, csrf_field(frame));
    out += close_page();
    return out;
}

std::string key_created_page(const Frame& frame, const Organization& org, const NewSecretKey& key) {
    const std::string base = html_escape(org_path(org));
    std::string out = open_page("Secret key created", &frame, Section::orgs);
    out += fmt::format(
        "<p class=\"crumbs\"><a href=\"/orgs\">Organizations</a> / <a href=\"{}\">{}</a></p>\n"
        "<h1>Secret key created for {}</h1>\n"
        "<dl class=\"facts\"><dt>Key id</dt><dd><code id=\"new-key-id\">{}</code></dd></dl>\n",
        base, html_escape(org.name), html_escape(org.name), html_escape(key.key_id));
    out += secret_once(key.secret_key);
    out += fmt::format("<p><a href=\"{}/keys\">Back to the secret keys of {}</a></p>\n", base,
                       html_escape(org.name));
    out += close_page();
    return out;
}

std::string tokens_page(const Frame& frame, const Organization& org, std::string_view email,
                        const std::vector<TokenRecord>& tokens) {
    const std::string base = html_escape(org_path(org));
    std::string out = open_page(std::string("Tokens of ").append(org.name), &frame, Section::orgs);
    out += fmt::format(
        "<p class=\"crumbs\"><a href=\"/orgs\">Organizations</a> / <a href=\"{0}\">{1}</a></p>\n"
        "<h1>Tokens of {1}</h1>\n"
        "<form id=\"filter\" class=\"inline\" method=\"get\" action=\"{0}/tokens\">\n"
        "<label for=\"filter-email\">E-mail</label>\n"
        "<input id=\"filter-email\" name=\"email\" type=\"text\" inputmode=\"email\" "
        "autocomplete=\"off\" spellcheck=\"false\" value=\"{2}\">\n"
        "<button type=\"submit\">Show tokens</button>{3}</form>\n",
        base, html_escape(org.name), html_escape(email),
        email.empty() ? std::string()
                      : fmt::format(" <a href=\"{}/tokens\">Show every e-mail</a>", base));
    const bool any_live = std::any_of(tokens.begin(), tokens.end(),
                                      [&](const TokenRecord& t) { return is_live(t, frame.now); });
    if (!email.empty() && any_live) {
        out += fmt::format(
            "<form id=\"revoke-user\" method=\"post\" action=\"{}/users/revoke\">{}"
            "<input type=\"hidden\" name=\"email\" value=\"{}\">"
            "<button type=\"submit\" class=\"danger\">Revoke every live token of {}</button>"
            "</form>\n",
            base, csrf_field(frame), html_escape(email), html_escape(email));
    }
    out +=
        "<div class=\"table-wrap\"><table id=\"tokens\">\n"
        "<thead><tr><th scope=\"col\">E-mail</th><th scope=\"col\">User id</th>"
        "<th scope=\"col\">Status</th><th scope=\"col\">Created</th>"
        "<th scope=\"col\">Expires</th><th scope=\"col\">Refreshed</th>"
        "<th scope=\"col\"><span class=\"visually-hidden\">Action</span></th></tr></thead>\n"
        "<tbody>\n";
    for (const TokenRecord& t : tokens) {
        std::string action;
        if (is_live(t, frame.now)) {
            action = fmt::format(
                "<form class=\"revoke-token\" method=\"post\" action=\"{}/tokens/{}/revoke\">{}"
                "<button type=\"submit\" class=\"danger\" aria-label=\"Revoke token {}\">Revoke"
                "</button></form>",
                base, html_escape(url_encode(t.token_id)), csrf_field(frame),
                html_escape(t.token_id));
        }
        out += fmt::format(
            "<tr data-token-id=\"{}\"><td data-label=\"E-mail\"><a href=\"{}/tokens?email={}\">"
            "{}</a></td><td data-label=\"User id\"><code>{}</code></td>"
            "<td data-label=\"Status\"><span class=\"status status-{}\">{}</span></td>"
            "<td data-label=\"Created\">{}</td><td data-label=\"Expires\">{}</td>"
            "<td data-label=\"Refreshed\">{}</td><td class=\"action\">{}</td></tr>\n",
            html_escape(t.token_id), base, html_escape(url_encode(t.email)), html_escape(t.email),
            html_escape(t.user_id), status_class(t, frame.now),
            html_escape(status_word(t, frame.now)), time_html(t.created_at, frame.now),
            time_html(t.expires_at, frame.now),
            t.refreshed_at > 0 ? time_html(t.refreshed_at, frame.now) : std::string("never"),
            action);
    }
    if (tokens.empty()) {
        out += empty_row(
            7, email.empty() ? "No tokens: nothing here yet." : "No tokens for this e-mail.");
    }
    out += "</tbody></table></div>\n";
    out +=
        "<p class=\"help\">Revoking a token closes the broker connections that use it within a "
        "second. Expired and ended tokens stay listed for an hour.</p>\n";
    out += close_page();
    return out;
}

std::string brokers_page(const Frame& frame, const ReplicaRegistry& registry) {
    std::string out = open_page("Brokers", &frame, Section::brokers);
    out += fmt::format(
        "<h1>Brokers</h1>\n"
        "<p>Last event in the stream: <code id=\"stream-last-id\">{}</code></p>\n"
        "<div class=\"table-wrap\"><table id=\"brokers\">\n"
        "<thead><tr><th scope=\"col\">Replica</th><th scope=\"col\">Last heartbeat</th>"
        "<th scope=\"col\">Applied event</th><th scope=\"col\">Behind (events)</th>"
        "<th scope=\"col\">Behind (ms)</th><th scope=\"col\">State</th></tr></thead>\n"
        "<tbody>\n",
        registry.stream_last_id.empty() ? std::string("none yet")
                                        : html_escape(registry.stream_last_id));
    for (const ReplicaStatus& r : registry.replicas) {
        const BrokerState state = broker_state(r);
        const char* word = state == BrokerState::stale    ? "stale"
                           : state == BrokerState::behind ? "behind"
                                                          : "in sync";
        const char* cls = state == BrokerState::stale    ? "stale"
                          : state == BrokerState::behind ? "behind"
                                                         : "in-sync";
        out += fmt::format(
            "<tr data-replica-id=\"{0}\"><td data-label=\"Replica\"><code>{0}</code></td>"
            "<td data-label=\"Last heartbeat\"><span title=\"{1}\">{2}</span></td>"
            "<td data-label=\"Applied event\"><code>{3}</code></td>"
            "<td data-label=\"Behind (events)\">{4}</td><td data-label=\"Behind (ms)\">{5}</td>"
            "<td data-label=\"State\"><span class=\"state state-{6}\">{7}</span></td></tr>\n",
            html_escape(r.replica_id), format_rfc3339(r.heartbeat_ms / 1000),
            age_text(r.heartbeat_age_ms),
            r.applied_id.empty() ? std::string("—") : html_escape(r.applied_id),
            html_escape(lag_events_text(r)), r.lag_ms, cls, word);
    }
    if (registry.replicas.empty()) {
        out += empty_row(6, "Nothing here yet: no broker with the token replica has registered.");
    }
    out += "</tbody></table></div>\n";
    out +=
        "<section aria-labelledby=\"states-heading\" class=\"explain\">\n"
        "<h2 id=\"states-heading\">What the states mean</h2>\n<dl>\n"
        "<dt>in sync</dt><dd>The broker's heartbeat is recent and it has applied every event "
        "in the stream.</dd>\n"
        "<dt>behind</dt><dd>The heartbeat is recent but events are still to be applied. A "
        "change (refresh, revoke, token auth off) waits for it before it is confirmed.</dd>\n"
        "<dt>stale</dt><dd>No heartbeat for more than 1.5 s: the broker has lost Redis, is "
        "stuck or has stopped. Writers no longer wait for it, and it refuses token CONNECTs "
        "from its memory until it has caught up with the stream again (it answers from Redis "
        "meanwhile, or refuses if Redis is unreachable). Registrations silent for 5 minutes "
        "are removed.</dd>\n"
        "</dl>\n</section>\n";
    out += close_page();
    return out;
}

std::string usage_page(const Frame& frame, const Usage& usage) {
    std::string out = open_page("Usage", &frame, Section::usage);
    out += fmt::format(
        "<h1>Usage</h1>\n"
        "<p class=\"help\">Counted by this tokend since it started, one bar per {} s over the "
        "last hour, newest on the right.</p>\n",
        usage.interval_seconds);
    bool any_sample = false;
    for (const UsageSeries& s : usage.series) {
        any_sample = any_sample || !s.per_interval.empty();
    }
    if (!any_sample) {
        out += fmt::format(
            "<p class=\"empty\">Nothing here yet: the first interval ends {} s after tokend "
            "starts.</p>\n",
            usage.interval_seconds);
    }
    for (const UsageSeries& s : usage.series) {
        const std::uint64_t last = s.per_interval.empty() ? 0 : s.per_interval.back();
        out += fmt::format(
            "<figure class=\"usage\" id=\"usage-{0}\">\n<figcaption><h2>{1}</h2>\n"
            "<p class=\"figures\">Total: <strong class=\"total\">{2}</strong> · "
            "last {3} s: <strong class=\"last\">{4}</strong></p></figcaption>\n",
            html_escape(s.id), html_escape(s.name), s.total, usage.interval_seconds, last);
        out += chart_svg(s, usage.interval_seconds);
        const auto slots =
            static_cast<std::int64_t>(std::max(s.per_interval.size(), kMinChartSlots));
        out += fmt::format(
            "<p class=\"axis-labels\" aria-hidden=\"true\"><span>{} ago</span><span>now</span>"
            "</p>\n</figure>\n",
            duration_text(slots * usage.interval_seconds));
    }
    out += close_page();
    return out;
}

std::string error_page(const Frame& frame, int status, std::string_view message) {
    const char* title = status == 404   ? "Not found"
                        : status == 403 ? "Forbidden"
                        : status == 401 ? "Not signed in"
                        : status == 429 ? "Too many attempts"
                        : status == 400 ? "Bad request"
                        : status >= 500 ? "Server error"
                                        : "Error";
    Frame shown = frame;
    shown.flash.clear();
    shown.error = std::string(message);
    std::string out = open_page(title, &shown, Section::none);
    out += fmt::format("<h1>{} <span class=\"code\">({})</span></h1>\n", title, status);
    out += frame.admin.empty() ? "<p><a href=\"/\">Sign in</a></p>\n"
                               : "<p><a href=\"/orgs\">Back to the organizations</a></p>\n";
    out += close_page();
    return out;
}

}  // namespace tka::tokend::admin
