// The operator dashboard as a person uses it, in headless Chromium: a real Redis, a real
// Mosquitto with the plugin and live MQTT clients, a real tokend serving the dashboard on
// its admin listener, and an admin account made with `tokenctl admin create`, as the docs
// tell an operator to. Every change made in the browser is checked where it matters:
// on the live MQTT connections and in the next /v2/tokens/create answer. Screenshots of
// every page go to TKA_ARTIFACT_DIR (build/test/artifacts/dashboard); the ids and names
// used here are the DOM contract of tokend/admin_pages.hpp.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "common/org_store.hpp"
#include "common/redis.hpp"
#include "common/time_format.hpp"
#include "tests/browser/logs_on_failure.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/mqtt_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tokend/tokend_harness.hpp"

using namespace tka;
using namespace tka::test;
using namespace std::chrono_literals;

namespace {

const std::string kArtifactDir = TKA_ARTIFACT_DIR;

// The admin account, made as the docs tell an operator to:
// `tokenctl --redis-url URL admin create --name NAME --json` prints {"admin", "password"}
// once. The password is never printed by this test (only tokenctl's stderr on failure).
std::string create_admin(const RedisServer& redis, const std::string& name) {
    const auto made =
        run({std::string(TKA_BINARY_DIR "/tokenctl/tokenctl"), std::string("--redis-url"),
             redis.url(), std::string("admin"), std::string("create"), std::string("--name"), name,
             std::string("--json")});
    INFO("tokenctl admin create: exit " << made.exit_code << ", stderr: " << made.err);
    REQUIRE(made.exit_code == 0);
    const auto json = nlohmann::json::parse(made.out, nullptr, false);
    REQUIRE(json.is_object());
    REQUIRE(json.value("admin", "") == name);
    REQUIRE(json.contains("password"));
    return json["password"].get<std::string>();
}

// Everything the dashboard runs against, started in the order an operator would.
struct Installation {
    RedisServer redis;
    MosquittoBroker broker{[this] {
        BrokerConfig config;
        config.plugin_path = TKA_PLUGIN_PATH;
        // The token replica registers the broker in Redis: the Brokers page shows it.
        config.plugin_opts = {{"redis_url", redis.url()}, {"cache", "on"}, {"log_level", "info"}};
        return config;
    }()};
    int admin_port = free_port();
    Tokend tokend{redis.url(), {"--admin-listen", fmt::format("127.0.0.1:{}", admin_port)}};
    HttpClient api = tokend.client();

    Installation() {
        if (!wait_for_port(admin_port, 20s)) {
            FAIL("tokend's admin listener did not start:\n" << tokend.log());
        }
    }

    std::string dashboard(const std::string& path) const {
        return fmt::format("http://127.0.0.1:{}{}", admin_port, path);
    }

    // POST /v2/tokens/create with the org's id and `secret_key`, as a backend does.
    Reply mint(const std::string& org_id, const std::string& secret_key, const std::string& email) {
        return post_json(
            api, "/v2/tokens/create",
            {{"organization_id", org_id}, {"secret_key", secret_key}, {"user_email", email}});
    }
};

// A live MQTT connection of `token` (a /v2/tokens/create answer), subscribed to its org.
void connect_token(MqttClient& client, int port, const std::string& client_id,
                   const nlohmann::json& token, const std::string& org_id) {
    const auto& credentials = token.at("mqtt_credentials");
    REQUIRE(client.connect(port, client_id, credentials.at("username").get<std::string>(),
                           credentials.at("password").get<std::string>()) == 0);
    REQUIRE(client.subscribe(fmt::format("orgs/{}/#", org_id), 1) == 1);
}

// The path of a URL the dashboard answered with ("http://127.0.0.1:1234/orgs?x" -> "/orgs").
std::string path_of(const std::string& url) {
    const auto scheme = url.find("://");
    const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash == std::string::npos) {
        return "/";
    }
    const auto query = url.find_first_of("?#", slash);
    return url.substr(slash, query == std::string::npos ? std::string::npos : query - slash);
}

std::string shoot(Browser& browser, const std::string& name) {
    const std::string path = fmt::format("{}/{}.png", kArtifactDir, name);
    browser.screenshot(path);
    std::cout << "screenshot: " << path << std::endl;
    return path;
}

void step(const std::string& what) {
    std::cout << "step: " << what << std::endl;
}

// Every form that changes something carries the session's CSRF token.
void check_forms_carry_csrf(Browser& browser) {
    const int forms = browser.count("form[method=post]");
    CHECK(forms > 0);
    CHECK(browser.count("form[method=post] input[type=hidden][name=csrf]") == forms);
}

}  // namespace

TEST_CASE(
    "an operator signs in, switches token auth, makes a key, sets the TTL, revokes a "
    "token and signs out, in a real browser",
    "[browser][dashboard]") {
    const std::string why = Browser::unavailable_reason();
    if (!why.empty()) {
        FAIL("the browser cannot run here: " << why);
    }
    std::filesystem::create_directories(kArtifactDir);
    std::filesystem::remove(kArtifactDir + "/failure.png");  // an earlier run's

    Installation site;
    RedisConnection db = site.redis.connect();
    const NewOrganization acme = OrgStore(db).create("Acme & <Robotics>", 3600, true, unix_now());
    const std::string org = acme.org.org_id;
    // A second organization, token auth off: the list shows both states.
    const NewOrganization globex = OrgStore(db).create("Globex", 900, false, unix_now());
    const std::string password = create_admin(site.redis, "Ada");

    TempDir dir;
    Browser browser(dir.file("browser.log"));
    LogsOnFailure logs_on_failure(
        {&browser, [&site] { return site.tokend.log(); }, kArtifactDir + "/failure.png"});

    // a. Sign in: a wrong password is refused in words, the right one by keyboard.
    step("a. sign in");
    auto at = browser.open(site.dashboard("/"));
    CHECK(at.status == 200);
    REQUIRE(browser.exists("form#login"));
    CHECK(browser.attr("form#login input[name=password]", "type") ==
          std::optional<std::string>("password"));
    shoot(browser, "login");
    browser.fill("form#login input[name=name]", "Ada");
    browser.fill("form#login input[name=password]", "not the password");
    at = browser.press("Enter");
    CHECK(at.navigated);
    CHECK(at.status == 401);
    REQUIRE(browser.visible("#error"));
    CHECK_FALSE(browser.text("#error").empty());
    CHECK(browser.attr("#error", "role") == std::optional<std::string>("alert"));
    CHECK(browser.exists("form#login"));

    browser.fill("form#login input[name=name]", "Ada");
    browser.press("Tab");
    CHECK(browser.focused().find("[name=password]") != std::string::npos);
    browser.fill("form#login input[name=password]", password);
    at = browser.press("Enter");
    CHECK(at.navigated);
    CHECK(at.status == 200);
    CHECK(path_of(at.url) == "/orgs");
    REQUIRE(browser.exists("table#orgs"));
    CHECK(browser.text("#whoami").find("Ada") != std::string::npos);
    const std::string org_row = fmt::format("table#orgs tr[data-org-id=\"{}\"]", org);
    REQUIRE(browser.exists(org_row));
    CHECK(browser.count("table#orgs tr[data-org-id]") == 2);
    CHECK(browser.text(fmt::format("tr[data-org-id=\"{}\"]", globex.org.org_id)).find("Off") !=
          std::string::npos);
    // The name is shown as written, never interpreted as markup.
    CHECK(browser.text(fmt::format("{} a[href=\"/orgs/{}\"]", org_row, org)) ==
          "Acme & <Robotics>");

    bool saw_session_cookie = false;
    for (const auto& cookie : browser.cookies()) {
        if (cookie.name == "tka_admin") {
            saw_session_cookie = true;
            CHECK(cookie.http_only);
            CHECK(cookie.same_site == "Strict");
            CHECK(cookie.path == "/");
            CHECK_FALSE(cookie.secure);  // plain HTTP here; tokend adds Secure with TLS
        }
    }
    CHECK(saw_session_cookie);
    shoot(browser, "orgs");

    // b. Token auth off closes the org's live MQTT connection; on again afterwards.
    step("b. token auth off closes a live connection");
    auto minted = site.mint(org, acme.first_key.secret_key, "alice@example.com");
    TKA_REQUIRE_STATUS(minted, 200, site.tokend);
    MqttClient alice;
    connect_token(alice, site.broker.port(), "alice", minted.json, org);

    at = browser.open(site.dashboard(fmt::format("/orgs/{}", org)));
    CHECK(at.status == 200);
    CHECK(browser.text("#token-auth-state") == "On");
    check_forms_carry_csrf(browser);
    CHECK(browser.exists(fmt::format("a[href=\"/orgs/{}/keys\"]", org)));
    CHECK(browser.exists(fmt::format("a[href=\"/orgs/{}/tokens\"]", org)));
    at = browser.click("#token-auth-toggle");
    CHECK(at.navigated);
    CHECK(at.status == 200);
    CHECK(path_of(at.url) == fmt::format("/orgs/{}", org));
    CHECK(browser.text("#token-auth-state") == "Off");
    CHECK(browser.visible("#flash"));
    const auto closed = alice.wait_disconnected(5s);
    CHECK(closed.has_value());
    shoot(browser, "org");
    // While it is off, tokend refuses to mint for the org.
    CHECK(site.mint(org, acme.first_key.secret_key, "alice@example.com").status != 200);
    at = browser.click("#token-auth-toggle");
    CHECK(at.status == 200);
    CHECK(browser.text("#token-auth-state") == "On");

    // c. A new key, shown once with a copy button, mints tokens.
    step("c. create a secret key and mint with it");
    at = browser.open(site.dashboard(fmt::format("/orgs/{}/keys", org)));
    CHECK(at.status == 200);
    REQUIRE(browser.exists("table#keys"));
    const int keys_before = browser.count("table#keys tr[data-key-id]");
    CHECK(keys_before == 1);
    at = browser.click("form#create-key button");
    CHECK(at.navigated);
    CHECK(at.status == 200);
    const std::string new_key = browser.text("code#new-secret-key");
    CHECK(new_key.rfind("sk_", 0) == 0);
    // The copy button: hidden without script, shown and working with it.
    REQUIRE(browser.exists("#copy-secret"));
    CHECK(browser.visible("#copy-secret"));
    CHECK_FALSE(browser.click("#copy-secret").navigated);
    browser.wait_for("#copy-status:not(:empty)");
    const std::string new_key_id = browser.text("#new-key-id");
    shoot(browser, "key-created");
    const auto with_new_key = site.mint(org, new_key, "carol@example.com");
    TKA_REQUIRE_STATUS(with_new_key, 200, site.tokend);
    // Listed from now on, the secret never shown again.
    browser.open(site.dashboard(fmt::format("/orgs/{}/keys", org)));
    CHECK(browser.count("table#keys tr[data-key-id]") == keys_before + 1);
    CHECK(browser.exists(fmt::format("tr[data-key-id=\"{}\"]", new_key_id)));
    CHECK_FALSE(browser.exists("code#new-secret-key"));
    shoot(browser, "keys");

    // d. The TTL set in the browser is the next token's expires_in.
    step("d. set the TTL");
    browser.open(site.dashboard(fmt::format("/orgs/{}", org)));
    browser.fill("form#ttl input[name=ttl]", "0");
    at = browser.click("form#ttl button");
    if (at.navigated) {  // the server refused it: the page says why
        CHECK(at.status == 400);
        CHECK(browser.visible("#error"));
    } else {  // the browser refused it first (min="1")
        CHECK(browser.exists("form#ttl input[name=ttl]:invalid"));
    }
    browser.open(site.dashboard(fmt::format("/orgs/{}", org)));
    browser.fill("form#ttl input[name=ttl]", "120");
    at = browser.press("Enter");
    CHECK(at.navigated);
    CHECK(at.status == 200);
    CHECK(browser.attr("form#ttl input[name=ttl]", "value") == std::optional<std::string>("120"));
    const auto short_lived = site.mint(org, new_key, "dave@example.com");
    TKA_REQUIRE_STATUS(short_lived, 200, site.tokend);
    CHECK(short_lived.json.value("expires_in", 0) == 120);

    // e. Revoking a token in the browser closes its connection.
    step("e. revoke a token");
    const auto bobs = site.mint(org, new_key, "bob@example.com");
    TKA_REQUIRE_STATUS(bobs, 200, site.tokend);
    const std::string bob_token = bobs.json.value("token_id", "");
    MqttClient bob;
    connect_token(bob, site.broker.port(), "bob", bobs.json, org);
    browser.open(site.dashboard(fmt::format("/orgs/{}/tokens", org)));
    REQUIRE(browser.exists("form#filter"));
    browser.fill("form#filter input[name=email]", "bob@example.com");
    at = browser.press("Enter");
    CHECK(at.navigated);
    CHECK(at.url.find("email=bob%40example.com") != std::string::npos);
    const std::string bob_row = fmt::format("table#tokens tr[data-token-id=\"{}\"]", bob_token);
    REQUIRE(browser.exists(bob_row));
    CHECK(browser.count("table#tokens tr[data-token-id]") == 1);  // only bob's
    CHECK(browser.exists("form#revoke-user"));
    shoot(browser, "tokens");
    at = browser.click(bob_row + " form.revoke-token button");
    CHECK(at.navigated);
    CHECK(at.status == 200);
    CHECK(bob.wait_disconnected(5s).has_value());
    CHECK_FALSE(browser.exists(bob_row + " form.revoke-token"));

    // f. The broker is listed with its replica; usage has charts.
    step("f. brokers and usage");
    at = browser.open(site.dashboard("/brokers"));
    CHECK(at.status == 200);
    REQUIRE(browser.exists("table#brokers"));
    CHECK(browser.count("table#brokers tr[data-replica-id]") >= 1);
    shoot(browser, "brokers");
    // Counters are sampled every 10 s: within 20 s the page counts the four tokens minted
    // above (alice, carol, dave, bob).
    const std::string created_total = "#usage-tokens-created .total";
    const auto counted = [&] {
        return browser.exists(created_total) && std::stoi(browser.text(created_total)) >= 4;
    };
    const auto counted_by = std::chrono::steady_clock::now() + 20s;
    at = browser.open(site.dashboard("/usage"));
    CHECK(at.status == 200);
    while (!counted() && std::chrono::steady_clock::now() < counted_by) {
        std::this_thread::sleep_for(1s);
        browser.open(site.dashboard("/usage"));
    }
    CHECK(counted());
    CHECK(browser.count("svg.chart") >= 3);  // tokens created, refreshes, revokes
    shoot(browser, "usage");
    check_forms_carry_csrf(browser);

    // g. Signing out ends the session: the pages ask to sign in again.
    step("g. sign out");
    at = browser.click("form#logout button");
    CHECK(at.navigated);
    CHECK(path_of(at.url) == "/");
    CHECK(browser.exists("form#login"));
    at = browser.open(site.dashboard("/orgs"));
    CHECK(path_of(at.url) == "/");
    CHECK(browser.exists("form#login"));
    CHECK_FALSE(browser.exists("table#orgs"));

    CHECK(browser.page_errors().empty());
}
