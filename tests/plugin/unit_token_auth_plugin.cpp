// TokenAuthPlugin against a real redis-server, tokens minted with OrgStore/TokenStore:
// allow/deny/defer decisions, fail-closed on a dead Redis, expiry, events turned into kicks
// (revoke, replace, refresh, token auth off) scoped to (org, token id), kicks carried out by
// client id, takeover safety, ACL from memory, and re-validation after the event connection
// was lost.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <thread>

#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "plugin/token_auth_plugin.hpp"
#include "tests/support/redis_server.hpp"

using namespace std::chrono_literals;
using tka::Refusal;
using tka::plugin::Access;
using tka::plugin::AclResult;
using tka::plugin::AuthDecision;
using tka::plugin::Handle;
using tka::plugin::Kick;
using tka::plugin::LogLevel;
using tka::plugin::TokenAuthPlugin;

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct Fixture {
    tka::test::RedisServer redis;
    tka::RedisConnection admin = redis.connect();
    std::vector<std::pair<LogLevel, std::string>> logs;
    std::unique_ptr<TokenAuthPlugin> plugin;
    tka::Organization org;

    // first_tick: tick once before the test, as every broker that delivers ticks does before
    // it reads a CONNECT. delayed_auth: the plugin as it runs in Mosquitto >= 2.1.
    explicit Fixture(std::vector<std::pair<std::string, std::string>> extra = {},
                     bool first_tick = true, bool delayed_auth = false) {
        // These cases test the Redis path and its timing (e.g. refused right after a commit);
        // the replica has its own cases (unit_replica_consumer.cpp) and the e2e suite runs
        // with it on.
        std::vector<std::pair<std::string, std::string>> opts = {{"redis_url", redis.url()},
                                                                 {"redis_timeout_ms", "500"},
                                                                 {"log_level", "debug"},
                                                                 {"cache", "off"}};
        for (auto& kv : extra) {
            opts.push_back(std::move(kv));
        }
        tka::plugin::PluginRuntimeOptions runtime;
        runtime.consumer_block = 200ms;
        plugin = std::make_unique<TokenAuthPlugin>(
            tka::plugin::parse_options(opts),
            [this](LogLevel level, const std::string& msg) { logs.emplace_back(level, msg); },
            runtime);
        if (delayed_auth) {
            plugin->use_delayed_auth();
        }
        plugin->start();
        org = new_org(3600);
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!plugin->consumer().positioned() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(10ms);
        }
        REQUIRE(plugin->consumer().positioned());
        if (first_tick) {
            plugin->on_tick(now_ms());
        }
    }

    tka::Organization new_org(std::int64_t ttl) {
        tka::OrgStore orgs(admin);
        return orgs.create("test org", ttl, true, tka::unix_now()).org;
    }

    tka::IssuedToken mint(const std::string& email, bool replace = true) {
        return mint_in(org, email, replace);
    }
    tka::IssuedToken mint_in(const tka::Organization& o, const std::string& email,
                             bool replace = true) {
        tka::TokenStore tokens(admin);
        return tokens.create(o, email, replace, tka::unix_now());
    }

    AuthDecision auth(Handle h, const std::string& client, const std::string& user,
                      const std::string& pw) {
        return plugin->on_basic_auth(h, client, user, pw, now_ms());
    }

    // Ticks with the real clock until `done(kicks so far)` or the timeout.
    std::vector<Kick> tick_until(const std::function<bool(const std::vector<Kick>&)>& done,
                                 std::chrono::milliseconds timeout = 5s) {
        std::vector<Kick> all;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            for (Kick& k : plugin->on_tick(now_ms())) {
                plugin->kicked(k.handle);  // what the glue does after kicking
                all.push_back(std::move(k));
            }
            if (done(all)) {
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
        return all;
    }

    std::size_t count_logs(const std::string& needle) const {
        std::size_t n = 0;
        for (const auto& [level, msg] : logs) {
            n += msg.find(needle) != std::string::npos ? 1 : 0;
        }
        return n;
    }
};

bool has_kick(const std::vector<Kick>& kicks, Handle h) {
    return std::any_of(kicks.begin(), kicks.end(), [h](const Kick& k) { return k.handle == h; });
}

const std::string kOtherPassword = "tkn_" + std::string(43, 'Q');

}  // namespace

TEST_CASE("core: a valid token is allowed and tracked until its expiry", "[plugin][core][redis]") {
    Fixture f;
    const auto tok = f.mint("alice@example.com");
    const auto d = f.auth(0x100, "dev1", tok.username(), tok.password);
    REQUIRE(d.kind == AuthDecision::Kind::allow);
    CHECK(d.token_id == tok.token_id);
    CHECK(d.org_id == tok.org_id);
    CHECK(d.user_id == tok.user_id);
    CHECK(d.expires_at == tok.expires_at);
    REQUIRE(f.plugin->tracked(0x100));
    CHECK(f.plugin->tracker().find(0x100)->deadline_ms == tok.expires_at * 1000);

    // Expiry: not one millisecond early, then closed.
    CHECK(f.plugin->on_tick(tok.expires_at * 1000 - 1).empty());
    const auto kicks = f.plugin->on_tick(tok.expires_at * 1000);
    REQUIRE(kicks.size() == 1);
    CHECK(kicks[0].handle == 0x100);
    CHECK(kicks[0].client_id == "dev1");
    CHECK(kicks[0].reason == Refusal::expired);
    CHECK(kicks[0].by_client_id);
    // Carried out by client id; the broker's DISCONNECT re-enters the plugin meanwhile.
    std::vector<std::string> kicked_ids;
    f.plugin->carry_out(kicks, [&](const std::string& id) {
        kicked_ids.push_back(id);
        f.plugin->on_disconnect(0x100);
    });
    CHECK(kicked_ids == std::vector<std::string>{"dev1"});
    CHECK_FALSE(f.plugin->tracked(0x100));
    CHECK(f.count_logs(std::string("closing connection: expired (token ")
                           .append(tok.token_id)
                           .append("), client 'dev1'")) == 1);
    // Carrying out the same kicks again touches nothing: the connection is gone.
    f.plugin->carry_out(kicks, [&](const std::string& id) { kicked_ids.push_back(id); });
    CHECK(kicked_ids.size() == 1);
    // Passwords never reach the log.
    CHECK(f.count_logs(tok.password) == 0);
}

TEST_CASE("core: refusals and deferrals", "[plugin][core][redis]") {
    Fixture f;
    const auto alice = f.mint("alice@example.com");
    const auto bob = f.mint("bob@example.com");
    const auto other_org = f.new_org(3600);
    const auto carol = f.mint_in(other_org, "carol@example.com");

    const auto deny = [&](const std::string& user, const std::string& pw) {
        const auto d = f.auth(0x200, "c", user, pw);
        CHECK_FALSE(f.plugin->tracked(0x200));
        return d.kind == AuthDecision::Kind::deny ? d.reason : Refusal::redis_unavailable;
    };
    CHECK(deny(alice.username(), kOtherPassword) == Refusal::unknown_token);
    CHECK(deny(bob.username(), alice.password) == Refusal::user_mismatch);
    CHECK(deny(carol.username(), alice.password) != Refusal::redis_unavailable);
    CHECK(deny(alice.user_id + "@org_notanorg00", alice.password) != Refusal::redis_unavailable);
    CHECK(deny("x@org_bad", alice.password) == Refusal::malformed_username);
    CHECK(deny(alice.username(), "tkn_short") == Refusal::malformed_password);

    const auto defer = [&](std::optional<std::string_view> user,
                           std::optional<std::string_view> pw) {
        return f.plugin->on_basic_auth(0x201, "c", user, pw, now_ms()).kind ==
               AuthDecision::Kind::defer;
    };
    CHECK(defer("alice", "secret"));
    CHECK(defer(alice.username(), std::nullopt));
    CHECK(defer(std::nullopt, std::nullopt));
    CHECK(defer(alice.username(), "not-a-token"));
    CHECK(f.plugin->counters().auth_deferred == 4);
    CHECK(f.plugin->counters().auth_allowed == 0);

    // Token auth switched off: refused at CONNECT.
    tka::OrgStore(f.admin).update(f.org.org_id, std::nullopt, false);
    CHECK(deny(alice.username(), alice.password) == Refusal::token_auth_off);
}

TEST_CASE("core: Redis down means refused fast, logged once, and recovery",
          "[plugin][core][redis]") {
    Fixture f;
    const auto tok = f.mint("alice@example.com");
    REQUIRE(f.auth(0x300, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);

    f.redis.stop();
    for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto d = f.auth(0x301, "b", tok.username(), tok.password);
        CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
        REQUIRE(d.kind == AuthDecision::Kind::deny);
        CHECK(d.reason == Refusal::redis_unavailable);
    }
    // Non-token clients are untouched by the outage.
    CHECK(f.auth(0x302, "c", "alice", "secret").kind == AuthDecision::Kind::defer);
    CHECK(f.count_logs("Redis unavailable") == 1);
    CHECK(f.plugin->counters().auth_redis_failures == 5);

    f.redis.start();
    f.admin = f.redis.connect();
    f.org = f.new_org(3600);
    const auto fresh = f.mint("alice@example.com");
    AuthDecision d;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    do {  // the connection's backoff may still hold for a moment
        d = f.auth(0x303, "d", fresh.username(), fresh.password);
        if (d.kind == AuthDecision::Kind::allow) {
            break;
        }
        std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < deadline);
    CHECK(d.kind == AuthDecision::Kind::allow);
    CHECK(f.count_logs("Redis reachable again") == 1);
}

TEST_CASE("core: revocation and replacement close live connections", "[plugin][core][redis]") {
    Fixture f;
    const auto t1 = f.mint("alice@example.com");
    REQUIRE(f.auth(0x400, "a1", t1.username(), t1.password).kind == AuthDecision::Kind::allow);
    REQUIRE(f.auth(0x401, "a2", t1.username(), t1.password).kind == AuthDecision::Kind::allow);
    const auto keep = f.mint("keep@example.com");
    REQUIRE(f.auth(0x402, "k", keep.username(), keep.password).kind == AuthDecision::Kind::allow);

    SECTION("revoke") {
        tka::TokenStore(f.admin).revoke(f.org.org_id, t1.token_id, tka::unix_now());
        const auto kicks = f.tick_until([](const auto& k) { return k.size() >= 2; });
        REQUIRE(kicks.size() == 2);
        CHECK(has_kick(kicks, 0x400));
        CHECK(has_kick(kicks, 0x401));
        CHECK(kicks[0].reason == Refusal::revoked);
    }
    SECTION("replace (create again with replace_existing)") {
        const auto t2 = f.mint("alice@example.com", true);
        const auto kicks = f.tick_until([](const auto& k) { return k.size() >= 2; });
        REQUIRE(kicks.size() == 2);
        CHECK(kicks[0].reason == Refusal::replaced);
        CHECK(f.auth(0x403, "a3", t2.username(), t2.password).kind == AuthDecision::Kind::allow);
    }
    SECTION("replace_existing false keeps the earlier token") {
        f.mint("alice@example.com", false);
        const auto kicks = f.tick_until([](const auto&) { return false; }, 700ms);
        CHECK(kicks.empty());
        CHECK(f.plugin->tracked(0x400));
    }
    CHECK(f.plugin->tracked(0x402));
}

TEST_CASE("core: token auth switched off closes the org's connections", "[plugin][core][redis]") {
    Fixture f;
    const auto tok = f.mint("alice@example.com");
    const auto other_org = f.new_org(3600);
    const auto other = f.mint_in(other_org, "bob@example.com");
    REQUIRE(f.auth(0x500, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    REQUIRE(f.auth(0x501, "b", other.username(), other.password).kind == AuthDecision::Kind::allow);
    tka::OrgStore(f.admin).update(f.org.org_id, std::nullopt, false);
    const auto kicks = f.tick_until([](const auto& k) { return !k.empty(); });
    REQUIRE(kicks.size() == 1);
    CHECK(kicks[0].handle == 0x500);
    CHECK(kicks[0].reason == Refusal::token_auth_off);
    CHECK(f.plugin->tracked(0x501));
}

TEST_CASE("core: a refresh moves the live connection's deadline", "[plugin][core][redis]") {
    Fixture f;
    tka::OrgStore(f.admin).update(f.org.org_id, 5, std::nullopt);
    f.org.ttl = 5;
    const auto tok = f.mint("alice@example.com");
    REQUIRE(f.auth(0x600, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    tka::OrgStore(f.admin).update(f.org.org_id, 3600, std::nullopt);
    const auto refreshed =
        tka::TokenStore(f.admin).refresh(tok.token_id, tok.password, tka::unix_now());
    REQUIRE(refreshed.expires_at > tok.expires_at);
    f.tick_until([&](const auto&) {
        return f.plugin->tracker().find(0x600)->deadline_ms == refreshed.expires_at * 1000;
    });
    CHECK(f.plugin->tracker().find(0x600)->deadline_ms == refreshed.expires_at * 1000);
    CHECK(f.plugin->on_tick(tok.expires_at * 1000 + 1000).empty());  // old expiry passes
    // The old password no longer connects; the new one does.
    CHECK(f.auth(0x601, "b", tok.username(), tok.password).kind == AuthDecision::Kind::deny);
    CHECK(f.auth(0x602, "c", tok.username(), refreshed.password).kind == AuthDecision::Kind::allow);
}

TEST_CASE("core: an event names a token by org and token id", "[plugin][core][redis]") {
    // A token id is unique only within its organization: a refresh or revocation in one org
    // never touches another org's connection that happens to use the same token id.
    Fixture f;
    const auto tok = f.mint("alice@example.com");
    REQUIRE(f.auth(0xC00, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    const auto other_org = f.new_org(3600);
    const auto bob = f.mint_in(other_org, "bob@example.com");
    REQUIRE(f.auth(0xC01, "b", bob.username(), bob.password).kind == AuthDecision::Kind::allow);
    const std::int64_t deadline = f.plugin->tracker().find(0xC00)->deadline_ms;
    const auto xadd = [&](std::vector<std::string> fields) {
        std::vector<std::string> argv = {"XADD", tka::keys::events(), "*"};
        argv.insert(argv.end(), fields.begin(), fields.end());
        f.admin.command(argv).expect_ok("XADD");
    };
    // Events of other_org that carry alice's token id (as another org's token could).
    const std::string later = std::to_string(tok.expires_at + 7200);
    xadd({"type", "token.refreshed", "org", other_org.org_id, "token", tok.token_id, "user",
          bob.user_id, "pw", std::string(64, 'a'), "exp", later});
    xadd({"type", "token.revoked", "org", other_org.org_id, "token", tok.token_id, "user",
          bob.user_id, "reason", "revoked"});
    // A marker after them: once it closes bob, both events above have been applied.
    xadd({"type", "token.revoked", "org", other_org.org_id, "token", bob.token_id, "user",
          bob.user_id, "reason", "revoked"});
    const auto kicks = f.tick_until([](const auto& k) { return !k.empty(); });
    REQUIRE(kicks.size() == 1);
    CHECK(kicks[0].handle == 0xC01);
    CHECK(f.plugin->tracked(0xC00));
    CHECK(f.plugin->tracker().find(0xC00)->deadline_ms == deadline);
    CHECK(f.count_logs("refreshed") == 0);

    // The same events in alice's org do reach her connection.
    xadd({"type", "token.refreshed", "org", tok.org_id, "token", tok.token_id, "user", tok.user_id,
          "pw", std::string(64, 'a'), "exp", later});
    f.tick_until(
        [&](const auto&) { return f.plugin->tracker().find(0xC00)->deadline_ms != deadline; });
    CHECK(f.plugin->tracker().find(0xC00)->deadline_ms == (tok.expires_at + 7200) * 1000);
    tka::TokenStore(f.admin).revoke(f.org.org_id, tok.token_id, tka::unix_now());
    const auto closed = f.tick_until([](const auto& k) { return !k.empty(); });
    REQUIRE(closed.size() == 1);
    CHECK(closed[0].handle == 0xC00);
    CHECK(closed[0].reason == Refusal::revoked);
}

TEST_CASE("core: client-id takeover never kicks the newer connection", "[plugin][core][redis]") {
    Fixture f;
    tka::OrgStore(f.admin).update(f.org.org_id, 5, std::nullopt);
    f.org.ttl = 5;
    const auto old_tok = f.mint("old@example.com");
    tka::OrgStore(f.admin).update(f.org.org_id, 3600, std::nullopt);
    f.org.ttl = 3600;
    const auto new_tok = f.mint("new@example.com");
    REQUIRE(new_tok.expires_at > old_tok.expires_at);
    REQUIRE(f.auth(0x700, "device", old_tok.username(), old_tok.password).kind ==
            AuthDecision::Kind::allow);
    REQUIRE(f.auth(0x701, "device", new_tok.username(), new_tok.password).kind ==
            AuthDecision::Kind::allow);

    SECTION("the old entry is due before its DISCONNECT arrived") {
        const auto kicks = f.plugin->on_tick(old_tok.expires_at * 1000);
        REQUIRE(kicks.size() == 1);
        CHECK(kicks[0].handle == 0x700);
        CHECK_FALSE(kicks[0].by_client_id);  // kicking "device" would hit 0x701
        std::vector<std::string> kicked_ids;
        f.plugin->carry_out(kicks, [&](const std::string& id) { kicked_ids.push_back(id); });
        CHECK(kicked_ids.empty());
        CHECK_FALSE(f.plugin->tracked(0x700));  // forgotten without a kick
        CHECK(f.plugin->tracked(0x701));
    }
    SECTION("a kick whose client id the broker no longer knows only forgets the entry") {
        // The broker lost the connection without a DISCONNECT reaching the plugin: the kick
        // by client id finds nobody (no DISCONNECT fires), and the entry goes anyway.
        f.plugin->on_disconnect(0x701);
        const auto kicks = f.plugin->on_tick(old_tok.expires_at * 1000);
        REQUIRE(kicks.size() == 1);
        CHECK(kicks[0].by_client_id);
        std::vector<std::string> kicked_ids;
        f.plugin->carry_out(kicks, [&](const std::string& id) { kicked_ids.push_back(id); });
        CHECK(kicked_ids == std::vector<std::string>{"device"});
        CHECK_FALSE(f.plugin->tracked(0x700));
    }
    SECTION("the old connection's DISCONNECT removes only the old entry") {
        f.plugin->on_disconnect(0x700);
        CHECK(f.plugin->tracked(0x701));
        tka::TokenStore(f.admin).revoke(f.org.org_id, old_tok.token_id, tka::unix_now());
        const auto kicks = f.tick_until([](const auto&) { return false; }, 700ms);
        CHECK(kicks.empty());
        CHECK(f.plugin->tracked(0x701));
    }
}

TEST_CASE("core: ACL answers from memory for token clients only", "[plugin][core][redis]") {
    Fixture f({{"acl_read", "orgs/%o/#"}, {"acl_write", "orgs/%o/users/%u/#"}});
    REQUIRE(f.plugin->acl_active());
    const auto tok = f.mint("alice@example.com");
    REQUIRE(f.auth(0x800, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    const std::string mine = "orgs/" + tok.org_id;
    f.redis.stop();  // no Redis needed for any of this
    CHECK(f.plugin->on_acl_check(0x800, mine + "/x", Access::read) == AclResult::allow);
    CHECK(f.plugin->on_acl_check(0x800, "orgs/org_other000000/x", Access::read) == AclResult::deny);
    CHECK(f.plugin->on_acl_check(0x800, mine + "/users/" + tok.user_id + "/t", Access::write) ==
          AclResult::allow);
    CHECK(f.plugin->on_acl_check(0x800, mine + "/users/someone/t", Access::write) ==
          AclResult::deny);
    CHECK(f.plugin->on_acl_check(0x800, "#", Access::subscribe) == AclResult::deny);
    CHECK(f.plugin->on_acl_check(0x999, "#", Access::subscribe) == AclResult::defer);
}

TEST_CASE("core: by default a token client is confined to its organization",
          "[plugin][core][redis]") {
    Fixture f;
    REQUIRE(f.plugin->acl_active());
    const auto tok = f.mint("alice@example.com");
    REQUIRE(f.auth(0x820, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    const std::string mine = "orgs/" + tok.org_id;
    CHECK(f.plugin->on_acl_check(0x820, mine + "/x", Access::write) == AclResult::allow);
    CHECK(f.plugin->on_acl_check(0x820, mine + "/#", Access::subscribe) == AclResult::allow);
    CHECK(f.plugin->on_acl_check(0x820, "orgs/org_other000000/x", Access::read) == AclResult::deny);
    CHECK(f.plugin->on_acl_check(0x820, "#", Access::subscribe) == AclResult::deny);
    CHECK(f.plugin->on_acl_check(0x820, "$SYS/#", Access::subscribe) == AclResult::deny);
    CHECK(f.plugin->on_acl_check(0x820, "$SYS/broker/uptime", Access::read) == AclResult::deny);
    CHECK(f.plugin->on_acl_check(0x820, "demo/hello", Access::write) == AclResult::deny);
    CHECK(f.plugin->on_acl_check(0x999, "#", Access::subscribe) == AclResult::defer);
}

TEST_CASE("core: with acl_default none and no patterns ACL checks are deferred",
          "[plugin][core][redis]") {
    Fixture f(std::vector<std::pair<std::string, std::string>>{{"acl_default", "none"}});
    const auto tok = f.mint("alice@example.com");
    REQUIRE(f.auth(0x810, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    CHECK_FALSE(f.plugin->acl_active());
    CHECK(f.plugin->on_acl_check(0x810, "anything", Access::write) == AclResult::defer);
    CHECK(f.count_logs("not confined to their organization") == 1);  // the warning at start
}

TEST_CASE("core: a refusal's log line names the reason before the client's text",
          "[plugin][core][redis]") {
    Fixture f;
    const auto tok = f.mint("alice@example.com");
    const std::string long_user(5000, 'u');
    const std::string username = long_user + "@" + tok.org_id;
    CHECK(f.auth(0x830, "c\nlong", username, tok.password).kind == AuthDecision::Kind::deny);
    std::string line;
    for (const auto& [level, msg] : f.logs) {
        if (msg.rfind("refused: ", 0) == 0) {
            line = msg;
        }
    }
    INFO(line);
    REQUIRE_FALSE(line.empty());
    CHECK(line.rfind("refused: malformed_username, client 'c\\x0along' (username 'uuu", 0) == 0);
    CHECK(line.size() < 400);
    CHECK(line.find(std::to_string(username.size()) + " bytes)") != std::string::npos);
    CHECK(line.find(tok.password) == std::string::npos);
}

TEST_CASE("core: re-validation after the event connection was lost", "[plugin][core][redis]") {
    Fixture f;
    const auto tok = f.mint("alice@example.com");
    REQUIRE(f.auth(0x900, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    f.tick_until([](const auto&) { return false; }, 300ms);

    // Redis restarts without its data: no event will ever announce that the token is gone.
    f.redis.stop();
    std::this_thread::sleep_for(300ms);
    f.redis.start();

    const auto kicks = f.tick_until([](const auto& k) { return !k.empty(); }, 10s);
    REQUIRE(kicks.size() == 1);
    CHECK(kicks[0].handle == 0x900);
    CHECK(kicks[0].reason == Refusal::unknown_org);  // the whole organization is gone
    CHECK(f.count_logs("event stream lost") == 1);
    CHECK(f.count_logs("re-validating") == 1);
}

TEST_CASE("core: re-validation keeps live tokens and adopts their current expiry",
          "[plugin][core][redis]") {
    Fixture f;
    const auto tok = f.mint("alice@example.com");
    REQUIRE(f.auth(0x910, "a", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    // Kill the consumer's connection (and every other client's): it reconnects, catches up
    // and re-validates; the token is still alive, so nothing is closed.
    try {
        f.admin.command({"CLIENT", "KILL", "TYPE", "normal"});
    } catch (const tka::RedisError&) {
        // our own connection may be among those killed
    }
    f.tick_until([&](const auto&) { return f.plugin->consumer().revalidations() >= 1; }, 10s);
    REQUIRE(f.plugin->consumer().revalidations() >= 1);
    const auto kicks = f.tick_until([](const auto&) { return false; }, 300ms);
    CHECK(kicks.empty());
    CHECK(f.plugin->tracked(0x910));
    CHECK(f.plugin->tracker().find(0x910)->deadline_ms == tok.expires_at * 1000);
}

TEST_CASE("core: token CONNECTs are refused until the broker has sent a tick",
          "[plugin][core][redis]") {
    Fixture f({}, /*first_tick=*/false);
    const auto tok = f.mint("alice@example.com");
    const auto d = f.auth(0xA00, "a", tok.username(), tok.password);
    CHECK(d.kind == AuthDecision::Kind::deny);
    CHECK(d.reason == Refusal::no_tick_events);
    CHECK_FALSE(f.plugin->tracked(0xA00));
    CHECK(f.auth(0xA01, "b", tok.username(), tok.password).reason == Refusal::no_tick_events);
    // One error line naming the setting and the fix, not one per CONNECT.
    CHECK(f.count_logs("per_listener_settings") == 1);
    CHECK(f.count_logs("2.0.15") == 1);
    // Credentials that are not token credentials are still left to others.
    CHECK(f.auth(0xA02, "c", "plain-user", "secret").kind == AuthDecision::Kind::defer);
    f.plugin->on_tick(now_ms());
    CHECK(f.auth(0xA03, "d", tok.username(), tok.password).kind == AuthDecision::Kind::allow);
    CHECK(f.plugin->tracked(0xA03));
}

TEST_CASE("core: delayed basic auth asks Redis off the broker thread and tracks on CONNECT",
          "[plugin][core][redis][delayed]") {
    Fixture f({}, true, /*delayed_auth=*/true);
    REQUIRE(f.plugin->delayed_auth());
    const auto tok = f.mint("alice@example.com");
    const auto other = f.mint("bob@example.com");
    // Drains the worker until `n` completions came back (the glue does this in the TICK).
    const auto completions = [&](std::size_t n) {
        std::vector<tka::plugin::Completion> all;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (all.size() < n && std::chrono::steady_clock::now() < deadline) {
            for (auto& c : f.plugin->take_completions()) {
                all.push_back(std::move(c));
            }
            std::this_thread::sleep_for(5ms);
        }
        return all;
    };

    SECTION("allowed: tracked once the broker reports the CONNECT") {
        CHECK(f.auth(0xB00, "dev", tok.username(), tok.password).kind ==
              AuthDecision::Kind::delayed);
        CHECK(f.plugin->next_tick_ms() < 10);  // answers are waited for closely
        const auto done = completions(1);
        REQUIRE(done.size() == 1);
        CHECK(done[0].client_id == "dev");
        CHECK(done[0].allowed);
        CHECK_FALSE(f.plugin->tracked(0xB00));
        f.plugin->on_connect(0xB00, "dev");  // inside mosquitto_complete_basic_auth
        f.plugin->completed("dev");
        REQUIRE(f.plugin->tracked(0xB00));
        CHECK(f.plugin->tracker().find(0xB00)->deadline_ms == tok.expires_at * 1000);
        CHECK(f.plugin->next_tick_ms() >= 50);
        CHECK(f.plugin->counters().auth_delayed == 1);
        CHECK(f.plugin->counters().auth_allowed == 1);
    }
    SECTION("refused: a wrong password comes back as a refusal") {
        CHECK(f.auth(0xB01, "dev", tok.username(), kOtherPassword).kind ==
              AuthDecision::Kind::delayed);
        const auto done = completions(1);
        REQUIRE(done.size() == 1);
        CHECK_FALSE(done[0].allowed);
        CHECK(done[0].reason == Refusal::unknown_token);
        CHECK(f.plugin->counters().auth_denied == 1);
    }
    SECTION("a later CONNECT of the same client id supersedes the earlier lookup") {
        // The first (valid) answer must never complete the second (wrong) CONNECT.
        CHECK(f.auth(0xB02, "dev", tok.username(), tok.password).kind ==
              AuthDecision::Kind::delayed);
        CHECK(f.auth(0xB03, "dev", other.username(), kOtherPassword).kind ==
              AuthDecision::Kind::delayed);
        const auto done = completions(1);
        REQUIRE(done.size() == 1);
        CHECK_FALSE(done[0].allowed);
        std::this_thread::sleep_for(100ms);
        CHECK(f.plugin->take_completions().empty());
    }
    SECTION("a client that left while it waited leaves nothing behind") {
        CHECK(f.auth(0xB04, "gone", tok.username(), tok.password).kind ==
              AuthDecision::Kind::delayed);
        REQUIRE(completions(1).size() == 1);
        f.plugin->completed("gone");  // no MOSQ_EVT_CONNECT came
        f.plugin->on_connect(0xB04, "gone");
        CHECK_FALSE(f.plugin->tracked(0xB04));
    }
    SECTION("Redis down: refused at once as unavailable, accepted again once it is back") {
        f.redis.stop();
        CHECK(f.auth(0xB05, "dev", tok.username(), tok.password).kind ==
              AuthDecision::Kind::delayed);
        const auto done = completions(1);
        REQUIRE(done.size() == 1);
        CHECK(done[0].reason == Refusal::redis_unavailable);
        const auto d = f.auth(0xB06, "dev", tok.username(), tok.password);
        CHECK(d.kind == AuthDecision::Kind::deny);
        CHECK(d.reason == Refusal::redis_unavailable);
        f.redis.start();
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        AuthDecision again;
        while (std::chrono::steady_clock::now() < deadline) {
            again = f.auth(0xB07, "dev", tok.username(), tok.password);
            if (again.kind == AuthDecision::Kind::delayed) {
                break;
            }
            std::this_thread::sleep_for(50ms);
        }
        CHECK(again.kind == AuthDecision::Kind::delayed);  // asked again: Redis is back
    }
}
