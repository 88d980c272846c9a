// Refresh is idempotent for one (old password, new password) pair: a refresh whose answer
// was lost is sent again with the same pair and yields the new password, while any other
// new password is refused. Against a real Redis, with a proxy that drops Redis's answer
// after Redis has executed the refresh (tests/support/reply_dropping_proxy.hpp).
#include <catch2/catch.hpp>

#include <chrono>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/identifiers.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "common/token_store.hpp"
#include "tests/support/denied_reason.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/reply_dropping_proxy.hpp"

namespace {

using tka::test::reason_of;

// Redis expires keys on its own clock, so "now" must be the real time.
const tka::UnixSeconds kNow = tka::unix_now();

// The answer refresh_token gives to a refresh it applied, as Redis sends it (RESP).
const std::string kScriptOk = "*5\r\n$2\r\nok\r\n";

struct Fixture {
    tka::test::RedisServer server;
    tka::RedisConnection redis = server.connect();
    tka::OrgStore orgs{redis};
    tka::TokenStore tokens{redis};
    tka::Organization org = orgs.create("Acme", 3600, true, kNow).org;

    // A store whose refreshes all choose `password` as the new one.
    tka::TokenStore pinned(tka::RedisConnection& conn, const std::string& password) {
        return tka::TokenStore(conn, {}, [password] { return password; });
    }

    long long refreshed_events(const std::string& token_id) {
        long long n = 0;
        for (const auto& entry :
             redis.command({"XRANGE", tka::keys::events(), "-", "+"}).elements) {
            const auto& f = entry.elements[1].elements;
            bool refreshed = false;
            bool ours = false;
            for (size_t i = 0; i + 1 < f.size(); i += 2) {
                refreshed = refreshed || (f[i].str == "type" && f[i + 1].str == "token.refreshed");
                ours = ours || (f[i].str == "token" && f[i + 1].str == token_id);
            }
            n += refreshed && ours ? 1 : 0;
        }
        return n;
    }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "a refresh sent again with the same pair answers as the first time") {
    auto t = tokens.create(org, "u@example.com", true, kNow);
    const std::string next = tka::ids::new_token_password();
    auto store = pinned(redis, next);
    auto first = store.refresh(t.token_id, t.password, kNow + 10);
    REQUIRE(first.password == next);

    // The org's TTL changes in between: the repeat still reports what was applied.
    orgs.update(org.org_id, 600, std::nullopt);
    auto again = store.refresh(t.token_id, t.password, kNow + 20);
    CHECK(again.password == next);
    CHECK(again.token_id == first.token_id);
    CHECK(again.org_id == first.org_id);
    CHECK(again.user_id == first.user_id);
    CHECK(again.email == first.email);
    CHECK(again.ttl == 3600);
    CHECK(again.expires_at == kNow + 10 + 3600);
    CHECK(refreshed_events(t.token_id) == 1);

    CHECK(tokens.authenticate(org.org_id, t.user_id, next, kNow + 21).expires_at ==
          first.expires_at);
    CHECK(tokens.authenticate(org.org_id, t.user_id, t.password, kNow + 21).refusal ==
          tka::Refusal::unknown_token);
}

TEST_CASE_METHOD(Fixture, "after a refresh, the old password with another new one is refused") {
    auto t = tokens.create(org, "u@example.com", true, kNow);
    auto first =
        pinned(redis, tka::ids::new_token_password()).refresh(t.token_id, t.password, kNow + 10);
    CHECK(reason_of([&] {
              pinned(redis, tka::ids::new_token_password())
                  .refresh(t.token_id, t.password, kNow + 11);
          }) == tka::Refusal::wrong_password);
    CHECK(reason_of([&] { tokens.refresh(t.token_id, t.password, kNow + 11); }) ==
          tka::Refusal::wrong_password);
    CHECK(tokens.authenticate(org.org_id, t.user_id, first.password, kNow + 12).ok());
    CHECK(refreshed_events(t.token_id) == 1);
}

TEST_CASE_METHOD(Fixture, "the same pair is not applied to a token that ended since") {
    auto t = tokens.create(org, "u@example.com", true, kNow);
    const std::string next = tka::ids::new_token_password();
    pinned(redis, next).refresh(t.token_id, t.password, kNow + 10);
    tokens.revoke(org.org_id, t.token_id, kNow + 11);
    // The retry is not applied again, and says why the token ended.
    CHECK(reason_of([&] { pinned(redis, next).refresh(t.token_id, t.password, kNow + 12); }) ==
          tka::Refusal::revoked);
    CHECK(tokens.authenticate(org.org_id, t.user_id, next, kNow + 12).refusal ==
          tka::Refusal::unknown_token);
}

TEST_CASE_METHOD(Fixture, "a refresh whose answer is lost is retried and yields the new password") {
    tka::test::ReplyDroppingProxy proxy(server.port());
    tka::RedisOptions options = server.options();
    options.endpoint = tka::parse_redis_url(proxy.url());
    options.command_timeout = std::chrono::milliseconds(300);
    tka::RedisConnection via_proxy(options);
    tka::TokenStore store(via_proxy);

    // Redis caches the script on its first use; from then on a refresh is one EVALSHA.
    auto warm = tokens.create(org, "warm@example.com", true, kNow);
    tokens.refresh(warm.token_id, warm.password, kNow);

    auto t = tokens.create(org, "u@example.com", true, kNow);
    // Only the refresh script carries the old password's digest.
    proxy.drop_replies_after(tka::crypto::sha256_bytes(t.password));
    auto r = store.refresh(t.token_id, t.password, kNow + 10);

    // Redis applied the first attempt and answered "ok"; the store never saw that answer.
    INFO("dropped: " << proxy.dropped());
    CHECK(proxy.dropped().rfind(kScriptOk, 0) == 0);
    CHECK(r.password != t.password);
    CHECK(r.token_id == t.token_id);
    CHECK(r.user_id == t.user_id);
    CHECK(r.email == "u@example.com");
    CHECK(r.expires_at == kNow + 10 + 3600);
    CHECK(refreshed_events(t.token_id) == 1);
    const auto lookup = tokens.authenticate(org.org_id, t.user_id, r.password, kNow + 11);
    CHECK(lookup.ok());
    CHECK(lookup.expires_at == r.expires_at);
    CHECK(tokens.authenticate(org.org_id, t.user_id, t.password, kNow + 11).refusal ==
          tka::Refusal::unknown_token);
}
