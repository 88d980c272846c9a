// AdminStore against a real Redis: the dashboard's accounts (create, list, delete,
// reset-password, verify) and sessions (find, CSRF token, idle and absolute expiry, ended
// by logout, password reset and account deletion).
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "common/admin_store.hpp"
#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/redis_keys.hpp"
#include "tests/support/denied_reason.hpp"
#include "tests/support/redis_server.hpp"

using tka::test::reason_of;

namespace {

const tka::SessionTimeouts kTimeouts{std::chrono::seconds(1800), std::chrono::seconds(43200)};

}  // namespace

TEST_CASE("admin accounts: create shows a generated password once, list, delete") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::AdminStore admins(redis);

    const auto alice = admins.create("alice", 1000);
    CHECK(alice.name == "alice");
    CHECK(alice.password.size() == 32);  // 24 random bytes in base64url
    CHECK(tka::crypto::base64url_decode(alice.password)->size() == 24);
    const auto bob = admins.create("Émile 東", 1001);
    CHECK(bob.password != alice.password);

    // Redis holds a slow hash, never the password.
    const auto stored = redis.command({"HGET", tka::keys::admins(), "alice"});
    CHECK(stored.str.find(alice.password) == std::string::npos);
    CHECK(stored.str.find("scrypt$15$8$1$") != std::string::npos);

    const auto list = admins.list();
    REQUIRE(list.size() == 2);
    CHECK(list[0].name == "alice");
    CHECK(list[0].created_at == 1000);
    CHECK(list[0].password_changed_at == 1000);
    CHECK(list[1].name == "Émile 東");  // sorted by bytes

    admins.remove("alice");
    REQUIRE(admins.list().size() == 1);
    CHECK_FALSE(admins.verify("alice", alice.password));
    CHECK(reason_of([&] { admins.remove("alice"); }) == tka::Refusal::not_found);
}

TEST_CASE("admin accounts: duplicates conflict, bad names are refused") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::AdminStore admins(redis);
    const auto first = admins.create("ops", 1);
    CHECK(reason_of([&] { admins.create("ops", 2); }) == tka::Refusal::conflict);
    CHECK(admins.verify("ops", first.password));  // the first account is untouched

    for (const std::string& name :
         {std::string(), std::string(65, 'a'), std::string("ev\xe2\x80\xaeil"),
          std::string("a\xc2\x85"), std::string("a\xc0\xaf"), std::string(" ops"),
          std::string("o\nps")}) {
        try {
            admins.create(name, 1);
            FAIL("accepted a bad name");
        } catch (const tka::Denied& e) {
            CHECK(e.reason() == tka::Refusal::bad_request);
            CHECK(std::string(e.what()).rfind("the name ", 0) == 0);
        }
    }
    CHECK_NOTHROW(admins.create(std::string(64, 'a'), 1));
    CHECK(admins.list().size() == 2);
}

TEST_CASE("admin accounts: verify and reset-password") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::AdminStore admins(redis);
    const auto created = admins.create("ops", 100);
    CHECK(admins.verify("ops", created.password));
    CHECK_FALSE(admins.verify("ops", created.password + "x"));
    CHECK_FALSE(admins.verify("ops", ""));
    CHECK_FALSE(admins.verify("nobody", created.password));

    const auto reset = admins.reset_password("ops", 200);
    CHECK(reset.name == "ops");
    CHECK(reset.password != created.password);
    CHECK_FALSE(admins.verify("ops", created.password));
    CHECK(admins.verify("ops", reset.password));
    const auto list = admins.list();
    REQUIRE(list.size() == 1);
    CHECK(list[0].created_at == 100);
    CHECK(list[0].password_changed_at == 200);
    CHECK(reason_of([&] { admins.reset_password("nobody", 200); }) == tka::Refusal::not_found);
    CHECK(admins.list().size() == 1);  // no account made up for the unknown name
}

TEST_CASE("admin sessions: found by id with a stable CSRF token, ended by logout") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::AdminStore admins(redis);
    admins.create("ops", 100);

    const auto session = admins.start_session("ops", 1000, kTimeouts);
    CHECK(session.admin == "ops");
    CHECK(session.created_at == 1000);
    CHECK(tka::crypto::base64url_decode(session.id)->size() == 32);
    CHECK(tka::crypto::base64url_decode(session.csrf)->size() == 32);
    const auto other = admins.start_session("ops", 1000, kTimeouts);
    CHECK(other.id != session.id);
    CHECK(other.csrf != session.csrf);

    // Redis holds the digest of the id, not the id.
    CHECK(redis.command({"EXISTS", tka::keys::admin_session(tka::crypto::sha256_hex(session.id))})
              .integer == 1);
    CHECK(redis.command({"EXISTS", tka::keys::admin_session(session.id)}).integer == 0);
    const auto ttl =
        redis.command({"TTL", tka::keys::admin_session(tka::crypto::sha256_hex(session.id))});
    CHECK(ttl.integer > 1700);
    CHECK(ttl.integer <= 1800);

    for (const tka::UnixSeconds now : {1000, 1500, 2000}) {
        const auto found = admins.find_session(session.id, now, kTimeouts);
        REQUIRE(found);
        CHECK(found->admin == "ops");
        CHECK(found->csrf == session.csrf);
        CHECK(found->created_at == 1000);
        CHECK(found->id == session.id);
    }
    CHECK_FALSE(admins.find_session("not-a-session", 2000, kTimeouts));
    CHECK_FALSE(admins.find_session("", 2000, kTimeouts));
    CHECK_FALSE(admins.find_session(std::string(4096, 'a'), 2000, kTimeouts));

    admins.end_session(session.id);
    CHECK_FALSE(admins.find_session(session.id, 2000, kTimeouts));
    CHECK(admins.find_session(other.id, 2000, kTimeouts));  // the other one lives on
    CHECK_NOTHROW(admins.end_session(session.id));          // twice is harmless
}

TEST_CASE("admin sessions: idle expiry in Redis, renewed by use") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::AdminStore admins(redis);
    admins.create("ops", 1);
    const tka::SessionTimeouts short_idle{std::chrono::seconds(2), std::chrono::seconds(3600)};

    const auto now = tka::unix_now();
    const auto used = admins.start_session("ops", now, short_idle);
    const auto idle = admins.start_session("ops", now, short_idle);
    // Using a session renews its idle timeout.
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        CHECK(admins.find_session(used.id, tka::unix_now(), short_idle));
    }
    CHECK_FALSE(admins.find_session(idle.id, tka::unix_now(), short_idle));
    CHECK(redis.command({"EXISTS", tka::keys::admin_session(tka::crypto::sha256_hex(idle.id))})
              .integer == 0);

    // The idle limit is also checked against the last use (to the second), whatever Redis's
    // clock says.
    const tka::SessionTimeouts long_idle{std::chrono::seconds(60), std::chrono::seconds(3600)};
    const auto session = admins.start_session("ops", 5000, long_idle);
    CHECK(admins.find_session(session.id, 5060, long_idle));
    CHECK(admins.find_session(session.id, 5120, long_idle));
    CHECK_FALSE(admins.find_session(session.id, 5181, long_idle));
}

TEST_CASE("admin sessions: the absolute end holds however busy the session is") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::AdminStore admins(redis);
    admins.create("ops", 1);
    const tka::SessionTimeouts timeouts{std::chrono::seconds(600), std::chrono::seconds(1000)};
    const auto session = admins.start_session("ops", 10000, timeouts);
    for (tka::UnixSeconds now = 10000; now < 11000; now += 300) {
        CHECK(admins.find_session(session.id, now, timeouts));
    }
    CHECK_FALSE(admins.find_session(session.id, 11000, timeouts));
    CHECK(redis.command({"EXISTS", tka::keys::admin_session(tka::crypto::sha256_hex(session.id))})
              .integer == 0);
    CHECK(redis
              .command({"SISMEMBER", tka::keys::admin_sessions_of("ops"),
                        tka::crypto::sha256_hex(session.id)})
              .integer == 0);
    CHECK_FALSE(admins.find_session(session.id, 10100, timeouts));  // ended for good
}

TEST_CASE("admin sessions: reset-password and delete end every session of the account") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::AdminStore admins(redis);
    admins.create("ops", 1);
    admins.create("other", 1);
    const auto a = admins.start_session("ops", 100, kTimeouts);
    const auto b = admins.start_session("ops", 100, kTimeouts);
    const auto kept = admins.start_session("other", 100, kTimeouts);

    admins.reset_password("ops", 200);
    CHECK_FALSE(admins.find_session(a.id, 200, kTimeouts));
    CHECK_FALSE(admins.find_session(b.id, 200, kTimeouts));
    CHECK(admins.find_session(kept.id, 200, kTimeouts));
    // A login after the reset works.
    const auto after = admins.start_session("ops", 200, kTimeouts);
    CHECK(admins.find_session(after.id, 201, kTimeouts));

    admins.remove("ops");
    CHECK_FALSE(admins.find_session(after.id, 202, kTimeouts));
    CHECK(redis.command({"EXISTS", tka::keys::admin_sessions_of("ops")}).integer == 0);
    CHECK(admins.find_session(kept.id, 202, kTimeouts));

    // A session whose account vanished without its sessions being ended is not found.
    const auto orphan = admins.start_session("other", 300, kTimeouts);
    redis.command({"HDEL", tka::keys::admins(), "other"});
    CHECK_FALSE(admins.find_session(orphan.id, 301, kTimeouts));
}
