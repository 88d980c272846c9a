// TokenStore against a real Redis: minting, replace_existing, refresh (incl. the race),
// revocation, expiry, listing, the broker-side lookup, and the events each change emits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <thread>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/events.hpp"
#include "common/identifiers.hpp"
#include "common/lua_scripts.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "common/token_record.hpp"
#include "common/token_store.hpp"
#include "tests/support/denied_reason.hpp"
#include "tests/support/redis_server.hpp"

namespace {

using tka::test::reason_of;

// Redis expires keys on its own clock, so "now" must be the real time.
const tka::UnixSeconds kNow = tka::unix_now();

std::vector<tka::Event> all_events(tka::RedisConnection& redis) {
    std::vector<tka::Event> out;
    auto reply = redis.command({"XRANGE", tka::keys::events(), "-", "+"});
    for (const auto& entry : reply.elements) {
        std::vector<std::pair<std::string, std::string>> fields;
        const auto& f = entry.elements[1].elements;
        for (size_t i = 0; i + 1 < f.size(); i += 2) {
            fields.emplace_back(f[i].str, f[i + 1].str);
        }
        auto e = tka::parse_event(entry.elements[0].str, fields);
        REQUIRE(e.has_value());
        out.push_back(*e);
    }
    return out;
}

struct Fixture {
    tka::test::RedisServer server;
    tka::RedisConnection redis = server.connect();
    tka::OrgStore orgs{redis};
    tka::TokenStore tokens{redis};
    tka::Organization org = orgs.create("Acme", 3600, true, kNow).org;
};

}  // namespace

TEST_CASE_METHOD(Fixture, "create mints a token bound to the user and the org TTL") {
    auto t = tokens.create(org, "  User@Example.COM ", true, kNow);
    CHECK(tka::ids::is_token_id(t.token_id));
    CHECK(tka::ids::is_token_password(t.password));
    CHECK(t.email == "user@example.com");
    CHECK(t.ttl == 3600);
    CHECK(t.expires_at == kNow + 3600);
    CHECK(t.username() == t.user_id + "@" + org.org_id);
    // Same e-mail, same user id; another e-mail, another.
    CHECK(tokens.create(org, "user@example.com", false, kNow).user_id == t.user_id);
    CHECK(tokens.create(org, "other@example.com", false, kNow).user_id != t.user_id);

    // Only the digest of the password is in Redis, and the record is gone 1 h after expiry.
    auto keys = redis.command({"KEYS", "*"});
    for (const auto& k : keys.elements) {
        if (redis.command({"TYPE", k.str}).str != "hash") {
            continue;
        }
        for (const auto& e : redis.command({"HGETALL", k.str}).elements) {
            CHECK(e.str.find(t.password) == std::string::npos);
        }
    }
    CHECK(tokens.get(org.org_id, t.token_id, kNow + 3600 + 3599)->status == "expired");
    CHECK_FALSE(tokens.get(org.org_id, t.token_id, kNow + 3600 + 3600).has_value());

    auto lookup = tokens.authenticate(org.org_id, t.user_id, t.password, kNow);
    CHECK(lookup.ok());
    CHECK(lookup.token_id == t.token_id);
    CHECK(lookup.expires_at == t.expires_at);
}

TEST_CASE_METHOD(Fixture, "bad e-mail and token auth off are refused") {
    CHECK(reason_of([&] { tokens.create(org, "not-an-email", true, kNow); }) ==
          tka::Refusal::bad_request);
    orgs.update(org.org_id, std::nullopt, false);
    CHECK(reason_of([&] { tokens.create(org, "u@example.com", true, kNow); }) ==
          tka::Refusal::token_auth_off);
}

TEST_CASE_METHOD(Fixture, "replace_existing retires earlier tokens of that e-mail atomically") {
    auto first = tokens.create(org, "u@example.com", true, kNow);
    auto second = tokens.create(org, "u@example.com", true, kNow + 1);
    CHECK(tokens.authenticate(org.org_id, first.user_id, first.password, kNow + 2).refusal ==
          tka::Refusal::unknown_token);
    REQUIRE(tokens.get(org.org_id, first.token_id, kNow + 2));
    CHECK(tokens.get(org.org_id, first.token_id, kNow + 2)->status == "replaced");
    CHECK(tokens.authenticate(org.org_id, second.user_id, second.password, kNow + 2).ok());
    CHECK(reason_of([&] { tokens.refresh(first.token_id, first.password, kNow + 2); }) ==
          tka::Refusal::replaced);

    auto third = tokens.create(org, "u@example.com", false, kNow + 3);
    CHECK(tokens.authenticate(org.org_id, second.user_id, second.password, kNow + 4).ok());
    CHECK(tokens.authenticate(org.org_id, third.user_id, third.password, kNow + 4).ok());

    auto events = all_events(redis);
    REQUIRE(events.size() == 4);  // created, revoked (replaced), created, created
    CHECK(events[0].type == tka::Event::Type::token_created);
    CHECK(events[1].type == tka::Event::Type::token_revoked);
    CHECK(events[1].reason == "replaced");
    CHECK(events[1].token_id == first.token_id);
    CHECK(events[2].type == tka::Event::Type::token_created);
    CHECK(events[2].password_digest == tka::crypto::sha256_hex(second.password));
    CHECK(events[2].expires_at == second.expires_at);
    CHECK(events[3].token_id == third.token_id);
}

TEST_CASE_METHOD(Fixture, "refresh rotates the password and restarts the TTL") {
    auto t = tokens.create(org, "u@example.com", true, kNow);
    orgs.update(org.org_id, 600, std::nullopt);
    auto r = tokens.refresh(t.token_id, t.password, kNow + 100);
    CHECK(r.token_id == t.token_id);
    CHECK(r.password != t.password);
    CHECK(r.ttl == 600);
    CHECK(r.expires_at == kNow + 100 + 600);
    CHECK(r.email == "u@example.com");
    CHECK(r.username() == t.username());
    CHECK(tokens.authenticate(org.org_id, t.user_id, t.password, kNow + 101).refusal ==
          tka::Refusal::unknown_token);
    CHECK(tokens.authenticate(org.org_id, t.user_id, r.password, kNow + 101).expires_at ==
          r.expires_at);
    CHECK(reason_of([&] { tokens.refresh(t.token_id, t.password, kNow + 102); }) ==
          tka::Refusal::wrong_password);
    CHECK(reason_of([&] { tokens.refresh(tka::ids::new_token_id(), r.password, kNow); }) ==
          tka::Refusal::unknown_token);
    CHECK(reason_of([&] { tokens.refresh(t.token_id, r.password, r.expires_at); }) ==
          tka::Refusal::expired);

    auto last = all_events(redis).back();
    CHECK(last.type == tka::Event::Type::token_refreshed);
    CHECK(last.expires_at == r.expires_at);
    CHECK(last.password_digest == tka::crypto::sha256_hex(r.password));
}

TEST_CASE_METHOD(Fixture, "the refresh script answers a retried refresh as the first time") {
    // A refresh whose reply was lost is retried with the same (old, new) pair: the script
    // recognises the new digest in the record and answers as before, changing nothing.
    auto t = tokens.create(org, "u@example.com", true, kNow);
    const std::string token_raw = *tka::layout::token_id_bytes(t.token_id);
    const std::string user_raw = *tka::layout::unhex(t.user_id);
    const auto raw = [](const std::string& password) {
        const auto d = tka::crypto::sha256(password);
        return std::string(reinterpret_cast<const char*>(d.data()), d.size());
    };
    const std::string next = tka::ids::new_token_password();
    const auto refresh = [&](tka::UnixSeconds now) {
        return tka::scripts::refresh_token().run(
            redis, {tka::keys::org(org.org_id), tka::keys::events()},
            {tka::keys::org_prefix(org.org_id), org.org_id, token_raw, t.token_id, user_raw,
             t.user_id, "0", raw(t.password), raw(next), tka::crypto::sha256_hex(next),
             std::to_string(now), "3600", "100000"});
    };
    const auto first = refresh(kNow + 10);
    orgs.update(org.org_id, 600, std::nullopt);  // a later TTL change does not alter it
    const std::size_t events = all_events(redis).size();
    const auto again = refresh(kNow + 20);
    REQUIRE(first.elements.size() == 5);
    REQUIRE(again.elements.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(again.elements[i].str == first.elements[i].str);
    }
    CHECK(first.elements[0].str == "ok");
    CHECK(first.elements[1].str == "3600");
    CHECK(first.elements[2].str == std::to_string(kNow + 10 + 3600));
    CHECK(first.elements[3].str == t.user_id);
    CHECK(first.elements[4].str == "u@example.com");
    CHECK(all_events(redis).size() == events);  // nothing announced twice
    CHECK(tokens.authenticate(org.org_id, t.user_id, next, kNow + 20).ok());
    CHECK(tokens.authenticate(org.org_id, t.user_id, t.password, kNow + 20).refusal ==
          tka::Refusal::unknown_token);
    // Once the token is revoked, the retry says so.
    tokens.revoke(org.org_id, t.token_id, kNow + 30);
    CHECK(refresh(kNow + 40).elements[0].str == "revoked");
}

TEST_CASE_METHOD(Fixture, "of concurrent refreshes with one password exactly one wins") {
    auto t = tokens.create(org, "u@example.com", true, kNow);
    constexpr int kThreads = 12;
    std::atomic<int> wins{0};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            tka::RedisConnection own = server.connect();
            tka::TokenStore store(own);
            try {
                store.refresh(t.token_id, t.password, kNow + 10);
                ++wins;
            } catch (const tka::Denied& d) {
                if (d.reason() == tka::Refusal::wrong_password) {
                    ++wrong;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    CHECK(wins == 1);
    CHECK(wrong == kThreads - 1);
}

TEST_CASE_METHOD(Fixture, "revoke by id and by e-mail ends live tokens only") {
    auto a = tokens.create(org, "a@example.com", true, kNow);
    auto b1 = tokens.create(org, "b@example.com", false, kNow);
    auto b2 = tokens.create(org, "b@example.com", false, kNow);

    CHECK(tokens.revoke(org.org_id, a.token_id, kNow + 1) == std::vector<std::string>{a.token_id});
    CHECK(tokens.revoke(org.org_id, a.token_id, kNow + 2).empty());  // already revoked
    CHECK(tokens.authenticate(org.org_id, a.user_id, a.password, kNow + 2).refusal ==
          tka::Refusal::unknown_token);
    CHECK(reason_of([&] { tokens.refresh(a.token_id, a.password, kNow + 2); }) ==
          tka::Refusal::revoked);
    CHECK(reason_of([&] { tokens.revoke(org.org_id, tka::ids::new_token_id(), kNow); }) ==
          tka::Refusal::unknown_token);

    auto revoked = tokens.revoke_email(org, "B@example.com", kNow + 3);
    std::sort(revoked.begin(), revoked.end());
    std::vector<std::string> expected{b1.token_id, b2.token_id};
    std::sort(expected.begin(), expected.end());
    CHECK(revoked == expected);

    auto listed = tokens.list(org.org_id, kNow + 4);
    REQUIRE(listed.size() == 3);
    for (const auto& r : listed) {
        CHECK(r.status == "revoked");
    }
    CHECK(tokens.list_email(org, "b@example.com", kNow + 4).size() == 2);
}

TEST_CASE_METHOD(Fixture, "the broker lookup says why a credential is refused") {
    auto t = tokens.create(org, "u@example.com", true, kNow);
    CHECK(tokens.authenticate(org.org_id, "0123456789abcdef01234567", t.password, kNow).refusal ==
          tka::Refusal::user_mismatch);
    CHECK(tokens.authenticate(org.org_id, t.user_id, t.password, t.expires_at).refusal ==
          tka::Refusal::expired);
    REQUIRE(tokens.get(org.org_id, t.token_id, t.expires_at));
    CHECK(tokens.get(org.org_id, t.token_id, t.expires_at)->status == "expired");
    CHECK(tokens.authenticate(org.org_id, t.user_id, "tkn_wrong", kNow).refusal ==
          tka::Refusal::unknown_token);
    CHECK(tokens.authenticate("org_000000000000", t.user_id, t.password, kNow).refusal ==
          tka::Refusal::unknown_token);
    orgs.update(org.org_id, std::nullopt, false);
    CHECK(tokens.authenticate(org.org_id, t.user_id, t.password, kNow).refusal ==
          tka::Refusal::token_auth_off);
}
