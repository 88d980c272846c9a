// The create script against a real Redis: the secret key check inside the script
// (TokenStore::create_with_key), and the two per-user sets -- the live set that
// replace_existing walks stays small, the full set behind `token list --email` keeps the
// replaced tokens, is pruned of tokens Redis has deleted, and the live set is rebuilt from
// it when missing (data written before it existed).
#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <set>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/identifiers.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "common/token_store.hpp"
#include "tests/support/denied_reason.hpp"
#include "tests/support/redis_server.hpp"

namespace {

using tka::test::reason_of;

// Redis expires keys on its own clock, so "now" must be the real time.
const tka::UnixSeconds kNow = tka::unix_now();

struct Fixture {
    tka::test::RedisServer server;
    tka::RedisConnection redis = server.connect();
    tka::OrgStore orgs{redis};
    tka::TokenStore tokens{redis};
    tka::NewOrganization created = orgs.create("Acme", 3600, true, kNow);
    tka::Organization& org = created.org;
    const std::string& key = created.first_key.secret_key;

    long long card(const std::string& set_key) { return redis.command({"SCARD", set_key}).integer; }
    std::string user_id(const std::string& email) {
        return tka::ids::derive_user_id(org.user_salt, email);
    }
    std::string user_set(const std::string& email) {
        return tka::keys::user_tokens(org.org_id, user_id(email));
    }
    std::string live_set(const std::string& email) {
        return tka::keys::user_live_tokens(org.org_id, user_id(email));
    }
    bool works(const tka::IssuedToken& t) {
        return tokens.authenticate(org.org_id, t.user_id, t.password, tka::unix_now()).ok();
    }
    tka::IssuedToken create_with_key(const std::string& email, bool replace) {
        auto t = tokens.create_with_key(org.org_id, org.user_salt, key, email, replace, kNow);
        REQUIRE(t);
        return *t;
    }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "create_with_key mints with a valid key in one script") {
    auto t = create_with_key("u@example.com", true);
    CHECK(t.user_id == user_id("u@example.com"));
    CHECK(t.ttl == 3600);
    CHECK(works(t));

    auto second = orgs.create_key(org.org_id, kNow);
    auto u = tokens.create_with_key(org.org_id, org.user_salt, second.secret_key, "u@example.com",
                                    true, kNow);
    REQUIRE(u);
    CHECK(works(*u));
    CHECK_FALSE(works(t));  // replaced

    const std::string legacy = "cs_LegacyKeyFromTheOldDashboard42";
    orgs.import_key(org.org_id, legacy, kNow);
    CHECK(tokens.create_with_key(org.org_id, org.user_salt, legacy, "v@example.com", true, kNow));
}

TEST_CASE_METHOD(Fixture, "create_with_key refuses wrong, revoked and foreign keys") {
    auto other = orgs.create("Other", 3600, true, kNow);
    auto attempt = [&](const std::string& org_id, const std::string& secret) {
        return reason_of([&] {
            tokens.create_with_key(org_id, org.user_salt, secret, "u@example.com", true, kNow);
        });
    };
    CHECK(attempt(org.org_id, tka::ids::new_secret_key()) == tka::Refusal::bad_secret_key);
    CHECK(attempt(org.org_id, other.first_key.secret_key) == tka::Refusal::bad_secret_key);
    CHECK(attempt(org.org_id, "sk_") == tka::Refusal::bad_secret_key);
    CHECK(attempt(tka::ids::new_org_id(), key) == tka::Refusal::unknown_org);
    CHECK(attempt("not an org", key) == tka::Refusal::unknown_org);

    orgs.revoke_key(org.org_id, created.first_key.key_id);
    CHECK(attempt(org.org_id, key) == tka::Refusal::bad_secret_key);

    // A wrong key is refused before token auth is looked at (401 before 403).
    auto second = orgs.create_key(org.org_id, kNow);
    orgs.update(org.org_id, std::nullopt, false);
    CHECK(attempt(org.org_id, tka::ids::new_secret_key()) == tka::Refusal::bad_secret_key);
    CHECK(attempt(org.org_id, second.secret_key) == tka::Refusal::token_auth_off);

    // Nothing was minted by any of these.
    CHECK(tokens.list(org.org_id, kNow).empty());
}

TEST_CASE_METHOD(Fixture, "create_with_key refuses a user_salt that is not the org's") {
    const std::string stale = tka::crypto::hex(tka::crypto::random_bytes(32));
    CHECK_FALSE(
        tokens.create_with_key(org.org_id, stale, key, "u@example.com", true, kNow).has_value());
    CHECK(tokens.list(org.org_id, kNow).empty());
    CHECK(redis.command({"EXISTS", user_set("u@example.com")}).integer == 0);
}

TEST_CASE_METHOD(Fixture, "replacing creates keep the live set at one token and list them all") {
    std::vector<tka::IssuedToken> issued;
    for (int i = 0; i < 50; ++i) {
        issued.push_back(create_with_key("hot@example.com", true));
        REQUIRE(card(live_set("hot@example.com")) == 1);
    }
    CHECK(card(user_set("hot@example.com")) == 50);
    CHECK(works(issued.back()));
    CHECK_FALSE(works(issued.front()));
    CHECK_FALSE(works(issued[48]));

    // token list --email still shows the replaced ones.
    auto listed = tokens.list_email(org, "hot@example.com", kNow);
    REQUIRE(listed.size() == 50);
    int replaced = 0;
    for (const auto& r : listed) {
        replaced += r.status == "replaced" ? 1 : 0;
    }
    CHECK(replaced == 49);
    // The live set expires with the token records.
    CHECK(redis.command({"EXPIRETIME", live_set("hot@example.com")}).integer ==
          kNow + 3600 + tka::kExpiredRetentionSeconds);
}

TEST_CASE_METHOD(Fixture, "tokens Redis has deleted are pruned from the user sets") {
    const auto live = tokens.create(org, "u@example.com", false, kNow);
    // Minted 3 h ago: expired 2 h ago, so Redis drops the records at once (EXPIREAT in the
    // past); their ids are left behind in the user sets.
    const tka::UnixSeconds long_ago = kNow - 3 * 3600;
    for (int i = 0; i < 200; ++i) {
        tokens.create(org, "u@example.com", false, long_ago);
        REQUIRE(card(user_set("u@example.com")) <= 4);
        REQUIRE(card(live_set("u@example.com")) <= 4);
    }
    auto listed = tokens.list_email(org, "u@example.com", kNow);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].token_id == live.token_id);
    CHECK(works(live));
    auto next = tokens.create(org, "u@example.com", true, kNow);
    CHECK_FALSE(works(live));
    CHECK(works(next));
}

TEST_CASE_METHOD(Fixture, "without replace_existing every live token stays in the live set") {
    std::set<std::string> ids;
    for (int i = 0; i < 10; ++i) {
        ids.insert(create_with_key("u@example.com", false).token_id);
    }
    auto members = redis.command({"SMEMBERS", live_set("u@example.com")});
    std::set<std::string> live;
    for (const auto& m : members.elements) {
        live.insert(m.str);
    }
    CHECK(live == ids);
    // A revoked one leaves the live set when a create samples it; replacing retires the rest.
    tokens.revoke(org.org_id, *ids.begin(), kNow);
    auto last = create_with_key("u@example.com", true);
    CHECK(card(live_set("u@example.com")) == 1);
    for (const auto& r : tokens.list_email(org, "u@example.com", kNow)) {
        if (r.token_id == last.token_id) {
            CHECK(r.status == "active");
        } else if (r.token_id == *ids.begin()) {
            CHECK(r.status == "revoked");
        } else {
            CHECK(r.status == "replaced");
        }
    }
}

TEST_CASE_METHOD(Fixture, "a missing live set is rebuilt from the user set") {
    // As after an upgrade (tokens minted before the live set existed), or when the live set
    // expired before a refreshed token.
    auto a = tokens.create(org, "u@example.com", false, kNow);
    auto b = tokens.create(org, "u@example.com", false, kNow);
    auto refreshed = tokens.refresh(b.token_id, b.password, kNow + 1);

    SECTION("a replacing create retires them") {
        redis.command({"DEL", live_set("u@example.com")});
        auto c = create_with_key("u@example.com", true);
        CHECK_FALSE(works(a));
        CHECK_FALSE(works(refreshed));
        CHECK(works(c));
        CHECK(card(live_set("u@example.com")) == 1);
    }
    SECTION("a non-replacing create keeps them, and a later replacing one retires them") {
        redis.command({"DEL", live_set("u@example.com")});
        auto c = create_with_key("u@example.com", false);
        CHECK(card(live_set("u@example.com")) == 3);
        CHECK(works(a));
        CHECK(works(refreshed));
        auto d = create_with_key("u@example.com", true);
        CHECK_FALSE(works(a));
        CHECK_FALSE(works(refreshed));
        CHECK_FALSE(works(c));
        CHECK(works(d));
    }
}
