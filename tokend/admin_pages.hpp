// The operator dashboard's HTML: every page tokend's admin listener serves, rendered on the
// server from plain data (no JavaScript needed to read or change anything; a small embedded
// script only adds the copy button and nothing else). Pure functions: data in, a complete
// HTML document out, every value escaped (html_escape). No external resources: the style
// sheet and the script are embedded (admin_assets.hpp) and referenced as /assets/….
//
// The element ids and names below are a contract with the browser tests
// (tests/browser/) and with people's bookmarks; change them together.
//
// Every page but the login page:
//   <nav> links a[href="/orgs"], a[href="/brokers"], a[href="/usage"]; the signed-in
//   admin's name in #whoami; form#logout (POST /logout) with its button.
//   A message of the last action, when there is one: #flash[role=status]; an error:
//   #error[role=alert] with a sentence a person understands.
//   Every form that changes something is method=post and carries
//   <input type=hidden name=csrf value=…>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/org_store.hpp"
#include "common/replica_registry.hpp"
#include "common/token_store.hpp"

namespace tka::tokend::admin {

// &, <, >, ", ' as entities; everything else as is (names are valid UTF-8 already).
std::string html_escape(std::string_view s);

// What every signed-in page shows around its content.
struct Frame {
    std::string admin;  // signed-in account (#whoami)
    std::string csrf;   // hidden field of every form
    std::string flash;  // #flash, empty: none
    std::string error;  // #error, empty: none
    UnixSeconds now = 0;
};

// GET / (not signed in): form#login (POST /login) with input[name=name],
// input[name=password] (type=password, autocomplete=current-password), button[type=submit].
// `error` in #error[role=alert] ("Wrong name or password.", "Too many failed sign-ins;
// try again in 42 s.").
std::string login_page(std::string_view error);

// GET /orgs: table#orgs, one tr[data-org-id=ORG] per org with a[href="/orgs/ORG"] (the
// name), the id, "On"/"Off", the TTL. form#create-org (POST /orgs) with input[name=name],
// input[name=ttl] (seconds, default 3600), input[type=checkbox][name=token_auth][value=on].
std::string orgs_page(const Frame& frame, const std::vector<Organization>& orgs);

// After POST /orgs succeeded (200, not a redirect: the key is shown once): #new-org-id,
// code#new-secret-key, button#copy-secret (copies the key; hidden without JS), a link to
// the org's page.
std::string org_created_page(const Frame& frame, const NewOrganization& created);

// GET /orgs/ORG: the org's name, id, created; #token-auth-state ("On"/"Off");
// form#token-auth (POST /orgs/ORG/token-auth) with input[type=hidden][name=token_auth]
// (the new value "on"/"off") and button#token-auth-toggle ("Turn off" / "Turn on");
// form#ttl (POST /orgs/ORG/ttl) with input[name=ttl] and its submit button;
// links a[href="/orgs/ORG/keys"] and a[href="/orgs/ORG/tokens"].
std::string org_page(const Frame& frame, const Organization& org);

// GET /orgs/ORG/keys: table#keys, one tr[data-key-id=ID] per key (id, prefix, created,
// legacy) with form.revoke-key (POST /orgs/ORG/keys/ID/revoke) and its button;
// form#create-key (POST /orgs/ORG/keys) and its button; form#import-key
// (POST /orgs/ORG/keys/import) with input[name=secret_key] (type=password).
std::string keys_page(const Frame& frame, const Organization& org,
                      const std::vector<SecretKeyInfo>& keys);

// After POST /orgs/ORG/keys succeeded: #new-key-id, code#new-secret-key, button#copy-secret.
std::string key_created_page(const Frame& frame, const Organization& org, const NewSecretKey& key);

// GET /orgs/ORG/tokens[?email=E]: form#filter (GET) with input[name=email]; table#tokens,
// one tr[data-token-id=ID] per token (e-mail, user id, status, created, expires,
// refreshed) with form.revoke-token (POST /orgs/ORG/tokens/ID/revoke) on live ones; when
// `email` is set and has live tokens, form#revoke-user (POST /orgs/ORG/users/revoke with
// input[type=hidden][name=email]) and its button. "No tokens" when empty.
std::string tokens_page(const Frame& frame, const Organization& org, std::string_view email,
                        const std::vector<TokenRecord>& tokens);

// GET /brokers: table#brokers, one tr[data-replica-id=ID] per replica (id, last heartbeat
// as age, applied id, lag in events and ms, "in sync"/"behind"/"stale").
std::string brokers_page(const Frame& frame, const ReplicaRegistry& registry);

// The usage page's data: per counter, samples taken at a fixed interval (oldest first).
struct UsageSeries {
    std::string name;  // "Tokens created", "Refreshes", "Failures: bad_secret_key", …
    std::string id;    // stable id for the chart element, [a-z0-9_-]
    std::vector<std::uint64_t> per_interval;  // events counted in each interval
    std::uint64_t total = 0;                  // since tokend started
};
struct Usage {
    std::int64_t interval_seconds = 10;
    std::vector<UsageSeries> series;
};

// GET /usage: one figure per series: svg.chart#chart-ID (inline SVG bars, readable without
// JS) with a <title>, the total and the last interval's count as text.
std::string usage_page(const Frame& frame, const Usage& usage);

// 404 / 403 / other errors as a page with #error.
std::string error_page(const Frame& frame, int status, std::string_view message);

}  // namespace tka::tokend::admin
