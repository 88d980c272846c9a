// The failed-auth backoff (plugin/auth_backoff.hpp): the tracker alone with time injected
// (entry above the threshold, growth, reset by a success, decay, the memory bound), then
// TokenAuthPlugin against a real redis-server: a flood of wrong passwords stops reaching
// Redis, a valid client of the same address is refused only while memory cannot decide it,
// and the Mosquitto 2.1 path (delayed basic auth) counts its Redis answers too.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/identifiers.hpp"
#include "common/org_store.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "plugin/auth_backoff.hpp"
#include "plugin/token_auth_plugin.hpp"
#include "tests/support/redis_server.hpp"

using namespace std::chrono_literals;
using tka::Refusal;
using tka::plugin::AuthBackoff;
using tka::plugin::AuthDecision;
using tka::plugin::LogLevel;
using tka::plugin::TokenAuthPlugin;

namespace {

// Concatenation by append (GCC 12 -O3 warns falsely on "literal" + std::string).
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string out;
    (out += ... += parts);
    return out;
}

const AuthBackoff::Clock::time_point kStart = AuthBackoff::Clock::time_point{} + 1000s;
const std::string kUser = "u0123456789ab@org_k7xm4pqr2n5t";
const std::string kOtherUser = "u9876543210ab@org_k7xm4pqr2n5t";

AuthBackoff::Options options(double threshold = 10) {
    AuthBackoff::Options o;
    o.threshold = threshold;
    return o;
}

// `n` failures of `s` at `now`; whether one of them started a backoff (either key).
bool fail(AuthBackoff& b, const AuthBackoff::Subject& s, int n,
          AuthBackoff::Clock::time_point now) {
    bool entered = false;
    for (int i = 0; i < n; ++i) {
        const auto o = b.failure(s, now);
        entered = entered || o.address.blocked || o.username.blocked;
    }
    return entered;
}

}  // namespace

TEST_CASE("backoff: which refusals count as failures", "[plugin][backoff]") {
    using tka::plugin::counts_for_backoff;
    for (Refusal r :
         {Refusal::malformed_username, Refusal::malformed_password, Refusal::unknown_token,
          Refusal::expired, Refusal::revoked, Refusal::token_auth_off, Refusal::user_mismatch}) {
        CAPTURE(tka::refusal_name(r));
        CHECK(counts_for_backoff(r));
    }
    // Refusals that say nothing about the client's credentials.
    for (Refusal r :
         {Refusal::redis_unavailable, Refusal::no_tick_events, Refusal::busy, Refusal::backoff}) {
        CAPTURE(tka::refusal_name(r));
        CHECK_FALSE(counts_for_backoff(r));
    }
    CHECK(tka::refusal_name(Refusal::backoff) == "backoff");
}

TEST_CASE("backoff: an address enters above the threshold, others are not affected",
          "[plugin][backoff]") {
    AuthBackoff b(options(10));
    const auto attacker = b.subject("192.0.2.7", std::nullopt);
    const auto neighbour = b.subject("192.0.2.8", std::nullopt);
    CHECK_FALSE(fail(b, attacker, 10, kStart));
    CHECK_FALSE(b.in_backoff(attacker, kStart));
    const auto o = b.failure(attacker, kStart);  // the 11th
    CHECK(o.address.blocked);
    CHECK(o.address.penalty_seconds == 10);
    CHECK(b.in_backoff(attacker, kStart));
    CHECK_FALSE(b.in_backoff(neighbour, kStart));
    // Over after its time.
    CHECK(b.in_backoff(attacker, kStart + 9s));
    CHECK_FALSE(b.in_backoff(attacker, kStart + 10s));
    CHECK(b.addresses().blocks_total() == 1);
}

TEST_CASE("backoff: a username enters too, whatever the address", "[plugin][backoff]") {
    AuthBackoff b(options(10));
    // A flood against one username from eleven addresses, none of them over the threshold.
    for (int i = 0; i < 11; ++i) {
        b.failure(b.subject(cat("198.51.100.", std::to_string(i)), kUser), kStart);
    }
    CHECK(b.in_backoff(b.subject("203.0.113.1", kUser), kStart));
    CHECK_FALSE(b.in_backoff(b.subject("203.0.113.1", kOtherUser), kStart));
    CHECK(b.usernames().blocks_total() == 1);
    CHECK(b.addresses().blocks_total() == 0);
    // Without an address (the broker named none) the username still counts.
    CHECK(b.in_backoff(b.subject(std::nullopt, kUser), kStart));
}

TEST_CASE("backoff: IPv6 addresses count by /64, other text apart and bounded",
          "[plugin][backoff]") {
    AuthBackoff b(options(3));
    fail(b, b.subject("2001:db8:1:2::1", std::nullopt), 2, kStart);
    fail(b, b.subject("2001:db8:1:2:ffff::9", std::nullopt), 2, kStart);
    CHECK(b.in_backoff(b.subject("2001:db8:1:2::77", std::nullopt), kStart));
    CHECK_FALSE(b.in_backoff(b.subject("2001:db8:1:3::1", std::nullopt), kStart));
    // A raw X-Forwarded-For value (Mosquitto 2.0.15+ websockets): a key of its own.
    const auto forwarded = b.subject("203.0.113.9, 10.0.0.2", std::nullopt);
    CHECK(forwarded.address == "?203.0.113.9, 10.0.0.2");
    CHECK(b.subject(std::string(5000, 'x'), std::nullopt).address.size() == 65);
    CHECK_FALSE(b.in_backoff(b.subject("203.0.113.9", std::nullopt), kStart));
}

TEST_CASE("backoff: repeated entries double up to the cap", "[plugin][backoff]") {
    AuthBackoff::Options o = options(10);
    o.first = 10s;
    o.max = 60s;
    AuthBackoff b(o);
    const auto s = b.subject("192.0.2.7", std::nullopt);
    // A client that fails as soon as it is let through.
    auto now = kStart;
    std::vector<int> penalties;
    for (int i = 0; i < 200 && penalties.size() < 5; ++i) {
        const auto out = b.failure(s, now);
        if (out.address.blocked) {
            penalties.push_back(out.address.penalty_seconds);
            now += std::chrono::seconds(out.address.penalty_seconds);
        }
    }
    CHECK(penalties == std::vector<int>{10, 20, 40, 60, 60});
}

TEST_CASE("backoff: a success ends the backoff and its growth, a flood resumes it",
          "[plugin][backoff]") {
    AuthBackoff b(options(10));
    const auto attacker = b.subject("192.0.2.7", kOtherUser);
    const auto valid = b.subject("192.0.2.7", kUser);  // same address (carrier NAT)
    REQUIRE(fail(b, attacker, 11, kStart));
    REQUIRE(fail(b, attacker, 30, kStart + 10s));  // the second entry: 20 s
    CHECK(b.in_backoff(valid, kStart + 15s));
    // The valid client connects (the replica held its token): the address is out.
    b.success(valid, kStart + 15s);
    CHECK_FALSE(b.in_backoff(valid, kStart + 15s));
    // The attacker's username is still in backoff on its own.
    CHECK(b.in_backoff(attacker, kStart + 15s));
    // The flood's next failure starts a new backoff at once, of the first length again.
    const auto again = b.failure(b.subject("192.0.2.7", std::nullopt), kStart + 16s);
    CHECK(again.address.blocked);
    CHECK(again.address.penalty_seconds == 10);
    CHECK(b.in_backoff(valid, kStart + 16s));
}

TEST_CASE("backoff: scores decay and occasional failures never enter", "[plugin][backoff]") {
    AuthBackoff b(options(10));
    const auto s = b.subject("192.0.2.7", kUser);
    // Three failures a minute for an hour (a device retrying an expired token slowly).
    auto now = kStart;
    for (int i = 0; i < 180; ++i) {
        CHECK_FALSE(b.failure(s, now).address.blocked);
        now += 20s;
    }
    CHECK_FALSE(b.in_backoff(s, now));
    // Eight failures, then ten minutes of quiet: the score has decayed (sixteen in a row
    // would enter), eight more are fine.
    AuthBackoff c(options(10));
    CHECK_FALSE(fail(c, s, 8, kStart));
    CHECK(c.addresses().score(s.address, kStart + 10min) < 0.01);
    CHECK_FALSE(fail(c, s, 8, kStart + 10min));
}

TEST_CASE("backoff: memory is bounded under a flood of new addresses and usernames",
          "[plugin][backoff]") {
    AuthBackoff::Options o = options(10);
    o.max_tracked = 1000;
    AuthBackoff b(o);
    const std::string org = "@org_k7xm4pqr2n5t";
    for (int i = 0; i < 20000; ++i) {
        const std::string address =
            cat("10.", std::to_string(i / 65536), ".", std::to_string((i / 256) % 256), ".",
                std::to_string(i % 256));
        const std::string user = cat("u", std::to_string(100000000000 + i), org);
        b.failure(b.subject(address, user), kStart + std::chrono::milliseconds(i));
        REQUIRE(b.addresses().tracked_keys() <= 1000);
        REQUIRE(b.usernames().tracked_keys() <= 1000);
    }
    CHECK(b.addresses().evictions_total() > 0);
    // A key in backoff survives the churn of score-1 keys.
    AuthBackoff c(o);
    const auto attacker = c.subject("192.0.2.7", std::nullopt);
    REQUIRE(fail(c, attacker, 11, kStart));
    for (int i = 0; i < 5000; ++i) {
        c.failure(c.subject(cat("10.1.", std::to_string(i / 256), ".", std::to_string(i % 256)),
                            std::nullopt),
                  kStart);
    }
    CHECK(c.in_backoff(attacker, kStart + 1s));
    // Checks and successes never add a key.
    AuthBackoff d(o);
    d.in_backoff(d.subject("192.0.2.9", kUser), kStart);
    d.success(d.subject("192.0.2.9", kUser), kStart);
    CHECK(d.addresses().tracked_keys() == 0);
    CHECK(d.usernames().tracked_keys() == 0);
}

TEST_CASE("backoff: off tracks nothing", "[plugin][backoff]") {
    AuthBackoff::Options o = options(1);
    o.enabled = false;
    AuthBackoff b(o);
    const auto s = b.subject("192.0.2.7", kUser);
    CHECK(s.address.empty());
    CHECK(s.username.empty());
    CHECK_FALSE(fail(b, s, 100, kStart));
    CHECK_FALSE(b.in_backoff(s, kStart));
    CHECK(b.addresses().tracked_keys() == 0);
}

TEST_CASE("backoff: log text is bounded and printable", "[plugin][backoff]") {
    using tka::plugin::printable;
    CHECK(printable("192.0.2.7") == "192.0.2.7");
    CHECK(printable("a\nb\x01\x7f\xc3\xa9") == "a?b????");
    CHECK(printable(std::string(100, 'x')) == std::string(64, 'x') + "...");
}

// ---- TokenAuthPlugin against a real Redis ----------------------------------------------

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Script calls Redis has served (EVAL and EVALSHA): with the replica off, every token
// lookup is one, and nothing else runs a script.
long long script_calls(const tka::test::RedisServer& redis) {
    tka::RedisConnection conn = redis.connect();
    const std::string info = conn.command({"INFO", "commandstats"}).str;
    long long total = 0;
    for (const std::string name : {"cmdstat_evalsha:calls=", "cmdstat_eval:calls="}) {
        const auto at = info.find(name);
        if (at != std::string::npos) {
            total += std::stoll(info.substr(at + name.size()));
        }
    }
    return total;
}

std::string random_password() {
    return tka::ids::new_token_password();  // well-formed, and no token has it
}

struct PluginFixture {
    tka::test::RedisServer redis;
    tka::RedisConnection admin = redis.connect();
    std::vector<std::pair<LogLevel, std::string>> logs;
    std::unique_ptr<TokenAuthPlugin> plugin;
    tka::Organization org;
    tka::IssuedToken valid;  // a live token of one user
    std::string attacked;    // another real user's username, flooded with wrong passwords

    // The replica off: every CONNECT that is not refused from memory asks Redis. The
    // lookup script is loaded by a first lookup (from an address and for a username the
    // cases do not use), so that each later lookup is exactly one script call.
    explicit PluginFixture(bool delayed_auth = false) {
        std::vector<std::pair<std::string, std::string>> opts = {
            {"redis_url", redis.url()}, {"log_level", "debug"},    {"cache", "off"},
            {"backoff_threshold", "5"}, {"backoff_first_s", "10"}, {"backoff_max_s", "60"}};
        tka::plugin::PluginRuntimeOptions runtime;
        runtime.start_consumer = false;
        plugin = std::make_unique<TokenAuthPlugin>(
            tka::plugin::parse_options(opts),
            [this](LogLevel level, const std::string& msg) { logs.emplace_back(level, msg); },
            runtime);
        if (delayed_auth) {
            plugin->use_delayed_auth();
        }
        plugin->start();
        plugin->on_tick(wall_ms());
        tka::OrgStore orgs(admin);
        org = orgs.create("test org", 3600, true, tka::unix_now()).org;
        tka::TokenStore tokens(admin);
        valid = tokens.create(org, "valid@example.com", true, tka::unix_now());
        attacked = tokens.create(org, "attacked@example.com", true, tka::unix_now()).username();
        plugin->on_basic_auth(1000000, "warm-up", "u0000000000ab@org_a1b2c3d4e5f6",
                              random_password(), wall_ms(), "198.18.0.1");
        if (delayed_auth) {
            REQUIRE(completions().size() == 1);
            plugin->completed("warm-up");
        }
    }

    // Delayed CONNECTs answered since the last call, waiting up to 5 s for the first one.
    std::vector<tka::plugin::Completion> completions() {
        std::vector<tka::plugin::Completion> done;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (done.empty() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
            done = plugin->take_completions();
        }
        return done;
    }

    // One CONNECT as on Mosquitto 2.0 (the answer at once).
    AuthDecision connect(const std::string& address, const std::string& username,
                         const std::string& password, std::int64_t at_ms) {
        ++next_handle;
        return plugin->on_basic_auth(next_handle, cat("c", std::to_string(next_handle)), username,
                                     password, at_ms, address);
    }

    std::size_t count_logs(const std::string& needle) const {
        std::size_t n = 0;
        for (const auto& [level, msg] : logs) {
            n += msg.find(needle) != std::string::npos ? 1 : 0;
        }
        return n;
    }

    tka::plugin::Handle next_handle = 1;
};

}  // namespace

TEST_CASE("backoff: a flood of wrong passwords stops reaching Redis until its time is over",
          "[plugin][backoff][redis]") {
    PluginFixture f;
    const std::int64_t t0 = wall_ms();
    const long long calls_before = script_calls(f.redis);
    // Five failures are tolerated, the sixth starts the backoff: each asked Redis.
    for (int i = 0; i < 6; ++i) {
        const auto d = f.connect("127.0.0.1", f.attacked, random_password(), t0);
        REQUIRE(d.kind == AuthDecision::Kind::deny);
        CHECK(d.reason == Refusal::unknown_token);
    }
    CHECK(script_calls(f.redis) == calls_before + 6);
    CHECK(f.plugin->counters().backoff_entries == 2);  // the address and the username
    CHECK(f.count_logs("backoff for 10 s after repeated failed token CONNECTs: client address "
                       "'127.0.0.1'") == 1);
    CHECK(f.count_logs(cat("backoff for 10 s after repeated failed token CONNECTs: username '",
                           f.attacked, "'")) == 1);

    // In backoff: refused at once, Redis not asked.
    for (int i = 0; i < 100; ++i) {
        const auto d = f.connect("127.0.0.1", f.attacked, random_password(), t0 + 1000);
        REQUIRE(d.kind == AuthDecision::Kind::deny);
        CHECK(d.reason == Refusal::backoff);
    }
    // A valid client from the same address: without a replica, memory cannot decide it.
    const auto shared = f.connect("127.0.0.1", f.valid.username(), f.valid.password, t0 + 1000);
    CHECK(shared.reason == Refusal::backoff);
    CHECK(script_calls(f.redis) == calls_before + 6);
    CHECK(f.plugin->counters().backoff_refusals == 101);
    CHECK(f.count_logs("refused: backoff") == 101);
    // Another address is not affected (its username is not the flooded one).
    const auto other = f.connect("192.0.2.1", f.valid.username(), f.valid.password, t0 + 1000);
    CHECK(other.kind == AuthDecision::Kind::allow);

    // After its time the valid client connects through Redis; the success ends the
    // address's backoff and growth (the attacked username's backoff runs on).
    const auto later = f.connect("127.0.0.1", f.valid.username(), f.valid.password, t0 + 10000);
    CHECK(later.kind == AuthDecision::Kind::allow);
    CHECK(script_calls(f.redis) == calls_before + 8);
    // The flood's score is still high: its next failure asks Redis once and enters again,
    // for the first length (the success reset the growth).
    const auto next = f.connect("127.0.0.1", kOtherUser, random_password(), t0 + 10001);
    CHECK(next.reason == Refusal::unknown_token);
    CHECK(f.count_logs("backoff for 10 s after repeated failed token CONNECTs: client address") ==
          2);
    CHECK(f.connect("127.0.0.1", kOtherUser, random_password(), t0 + 10002).reason ==
          Refusal::backoff);
    CHECK(script_calls(f.redis) == calls_before + 9);
}

TEST_CASE("backoff: memory still decides what it can, another address success changes nothing",
          "[plugin][backoff][redis]") {
    PluginFixture f;
    const std::int64_t t0 = wall_ms();
    for (int i = 0; i < 6; ++i) {
        f.connect("192.0.2.7", kOtherUser, random_password(), t0);
    }
    REQUIRE(f.connect("192.0.2.7", kOtherUser, random_password(), t0).reason == Refusal::backoff);
    // A malformed password needs no Redis: decided as always, even in backoff.
    CHECK(f.connect("192.0.2.7", f.valid.username(), "tkn_short", t0).reason ==
          Refusal::malformed_password);
    // The valid user connects from another address; this address stays in backoff.
    CHECK(f.connect("192.0.2.8", f.valid.username(), f.valid.password, t0).kind ==
          AuthDecision::Kind::allow);
    CHECK(f.connect("192.0.2.7", f.valid.username(), f.valid.password, t0).reason ==
          Refusal::backoff);
}

TEST_CASE("backoff: plugin_opt_backoff off asks Redis every time", "[plugin][backoff][redis]") {
    tka::test::RedisServer redis;
    tka::plugin::PluginRuntimeOptions runtime;
    runtime.start_consumer = false;
    std::vector<std::string> lines;
    TokenAuthPlugin plugin(
        tka::plugin::parse_options(
            {{"redis_url", redis.url()}, {"cache", "off"}, {"backoff", "off"}}),
        [&lines](LogLevel, const std::string& msg) { lines.push_back(msg); }, runtime);
    plugin.start();
    plugin.on_tick(wall_ms());
    tka::RedisConnection admin = redis.connect();
    const auto org = tka::OrgStore(admin).create("o", 3600, true, tka::unix_now()).org;
    const std::string user = cat("u0123456789ab@", org.org_id);
    plugin.on_basic_auth(1, "c", user, random_password(), wall_ms(), "198.18.0.1");  // loads
    const long long before = script_calls(redis);
    for (int i = 0; i < 50; ++i) {
        const auto d =
            plugin.on_basic_auth(1, "c", user, random_password(), wall_ms(), "127.0.0.1");
        CHECK(d.reason == Refusal::unknown_token);
    }
    CHECK(script_calls(redis) == before + 50);
    CHECK(plugin.counters().backoff_entries == 0);
    CHECK(plugin.backoff().addresses().tracked_keys() == 0);
}

TEST_CASE("backoff: with delayed basic auth, Redis answers count and backoff is immediate",
          "[plugin][backoff][redis]") {
    PluginFixture f(/*delayed_auth=*/true);
    const long long calls_before = script_calls(f.redis);
    // Six CONNECTs handed to the worker, one at a time (each supersedes none: own ids).
    for (int i = 0; i < 6; ++i) {
        const std::string id = cat("flood-", std::to_string(i));
        const auto d = f.plugin->on_basic_auth(100 + i, id, f.attacked, random_password(),
                                               wall_ms(), "127.0.0.1");
        REQUIRE(d.kind == AuthDecision::Kind::delayed);
        const auto done = f.completions();
        REQUIRE(done.size() == 1);
        CHECK_FALSE(done[0].allowed);
        CHECK(done[0].reason == Refusal::unknown_token);
        f.plugin->completed(id);
    }
    CHECK(f.plugin->counters().backoff_entries == 2);
    // In backoff: answered at once (not delayed), without Redis.
    const auto d = f.plugin->on_basic_auth(200, "flood-x", f.attacked, random_password(), wall_ms(),
                                           "127.0.0.1");
    CHECK(d.kind == AuthDecision::Kind::deny);
    CHECK(d.reason == Refusal::backoff);
    CHECK(script_calls(f.redis) == calls_before + 6);
    CHECK(f.plugin->counters().auth_delayed == 7);  // the warm-up and the six
}

TEST_CASE("backoff: delayed CONNECTs superseded by the same client id still count",
          "[plugin][backoff][redis]") {
    PluginFixture f(/*delayed_auth=*/true);
    const long long calls_before = script_calls(f.redis);
    // Six CONNECTs with one client id, each superseding the one before while it waits.
    for (int i = 0; i < 6; ++i) {
        const auto d = f.plugin->on_basic_auth(300 + i, "same-id", f.attacked, random_password(),
                                               wall_ms(), "127.0.0.1");
        REQUIRE(d.kind == AuthDecision::Kind::delayed);
    }
    // Only the last CONNECT gets an answer (the worker answers in order, so the earlier
    // ones are in by then), but all six lookups ran and all six failures count.
    const auto done = f.completions();
    REQUIRE(done.size() == 1);
    CHECK(done[0].client_id == "same-id");
    f.plugin->completed("same-id");
    CHECK(script_calls(f.redis) == calls_before + 6);
    CHECK(f.plugin->counters().backoff_entries == 2);
    CHECK(f.plugin
              ->on_basic_auth(400, "same-id", f.attacked, random_password(), wall_ms(), "127.0.0.1")
              .reason == Refusal::backoff);
}
