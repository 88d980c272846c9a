// The create script against a real Redis: the secret key check inside the script
// (TokenStore::create_with_key), replace_existing over the user's records in every bucket
// generation, `token list --email` keeping the replaced tokens, buckets that stay
// listpack-encoded, and the sweep deleting records past their retention.
#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <set>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/expiry_sweep.hpp"
#include "common/identifiers.hpp"
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

struct Fixture {
    tka::test::RedisServer server;
    tka::RedisConnection redis = server.connect();
    tka::OrgStore orgs{redis};
    tka::TokenStore tokens{redis};
    tka::NewOrganization created = orgs.create("Acme", 3600, true, kNow);
    tka::Organization& org = created.org;
    const std::string& key = created.first_key.secret_key;

    std::string user_id(const std::string& email) {
        return tka::ids::derive_user_id(org.user_salt, email);
    }
    // The user bucket of generation `g` that holds `email`'s records written then.
    std::string user_bucket(const std::string& email, unsigned g) {
        const auto raw = *tka::layout::unhex(user_id(email));
        return tka::keys::user_bucket(org.org_id, g, tka::layout::bucket_index(raw, g));
    }
    // Buckets that hold the user's e-mail field (one per bucket with records of the user).
    long long email_fields(const std::string& email) {
        const auto raw = *tka::layout::unhex(user_id(email));
        long long n = 0;
        for (unsigned g = 0; g <= tka::layout::kMaxBucketBits; ++g) {
            n += redis.command({"HEXISTS", user_bucket(email, g), raw}).integer;
        }
        return n;
    }
    long long live(const std::string& email) {
        long long n = 0;
        for (const auto& r : tokens.list_email(org, email, kNow)) {
            n += r.status == "active" ? 1 : 0;
        }
        return n;
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
    CHECK(tokens.list_email(org, "u@example.com", kNow).empty());
}

TEST_CASE_METHOD(Fixture, "replacing creates leave one live token and list them all") {
    std::vector<tka::IssuedToken> issued;
    for (int i = 0; i < 50; ++i) {
        issued.push_back(create_with_key("hot@example.com", true));
        REQUIRE(live("hot@example.com") == 1);
    }
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
    // Compact: the user's bucket is still a listpack (51 fields: e-mail and 50 records).
    CHECK(redis.command({"OBJECT", "ENCODING", user_bucket("hot@example.com", 0)}).str ==
          "listpack");
    // Gone one hour after their expiry, as if Redis had expired them.
    CHECK(tokens.list_email(org, "hot@example.com", kNow + 3600 + 3599).size() == 50);
    CHECK(tokens.list_email(org, "hot@example.com", kNow + 3600 + 3600).empty());
}

TEST_CASE_METHOD(Fixture, "the sweep deletes records past their retention") {
    const auto live_token = tokens.create(org, "u@example.com", false, kNow);
    // Minted 3 h ago: expired 2 h ago, gone for readers 1 h ago.
    const tka::UnixSeconds long_ago = kNow - 3 * 3600;
    std::vector<tka::IssuedToken> old;
    for (int i = 0; i < 200; ++i) {
        old.push_back(tokens.create(org, "u@example.com", false, long_ago));
    }
    auto listed = tokens.list_email(org, "u@example.com", kNow);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].token_id == live_token.token_id);
    CHECK(works(live_token));
    CHECK_FALSE(tokens.get(org.org_id, old[0].token_id, kNow).has_value());
    CHECK(reason_of([&] { tokens.refresh(old[5].token_id, old[5].password, kNow); }) ==
          tka::Refusal::unknown_token);

    // One pass over every bucket deletes them all, with their index entries.
    CHECK(tokens.sweep(org.org_id, kNow, 1000) == 200);
    CHECK(tokens.sweep(org.org_id, kNow, 1000) == 0);
    CHECK(email_fields("u@example.com") == 1);  // with the live record
    CHECK(tokens.get(org.org_id, live_token.token_id, kNow).has_value());
    // The e-mail of a user left without records goes too.
    tokens.create(org, "gone@example.com", false, long_ago);
    CHECK(tokens.sweep(org.org_id, kNow, 1000) == 1);
    CHECK(email_fields("gone@example.com") == 0);
    auto next = tokens.create(org, "u@example.com", true, kNow);
    CHECK_FALSE(works(live_token));
    CHECK(works(next));
}

TEST_CASE_METHOD(Fixture, "without replace_existing every live token stays live") {
    std::set<std::string> ids;
    std::vector<tka::IssuedToken> issued;
    for (int i = 0; i < 10; ++i) {
        issued.push_back(create_with_key("u@example.com", false));
        ids.insert(issued.back().token_id);
    }
    for (const auto& t : issued) {
        CHECK(works(t));
    }
    CHECK(live("u@example.com") == 10);
    // A revoked one stays revoked; replacing retires the rest.
    tokens.revoke(org.org_id, *ids.begin(), kNow);
    auto last = create_with_key("u@example.com", true);
    CHECK(live("u@example.com") == 1);
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

TEST_CASE_METHOD(Fixture, "records in older bucket generations are found and replaced") {
    // The org's buckets double as it grows: a user's records end up in several generations.
    auto a = tokens.create(org, "u@example.com", false, kNow);
    int filler = 0;
    const auto grow = [&](int n) {
        for (int i = 0; i < n; ++i) {
            std::string email = "filler";
            email.append(std::to_string(filler++)).append("@example.com");
            tokens.create(org, email, false, kNow);
        }
    };
    grow(40);  // more than 32 records: generation 1
    auto b = tokens.create(org, "u@example.com", false, kNow);
    grow(40);  // more than 64: generation 2
    auto refreshed = tokens.refresh(b.token_id, b.password, kNow + 1);
    CHECK(redis.command({"HGET", tka::keys::org(org.org_id), "bits"}).str == "2");
    CHECK(works(a));
    CHECK(works(refreshed));
    CHECK(live("u@example.com") == 2);

    auto c = create_with_key("u@example.com", true);
    CHECK_FALSE(works(a));
    CHECK_FALSE(works(refreshed));
    CHECK(works(c));
    CHECK(live("u@example.com") == 1);
    CHECK(tokens.list_email(org, "u@example.com", kNow).size() == 3);
    CHECK(tokens.list(org.org_id, kNow).size() == 83);
}

TEST_CASE_METHOD(Fixture, "the background sweep cleans every org, idle ones too") {
    auto idle = orgs.create("Idle", 600, true, kNow).org;
    const tka::UnixSeconds long_ago = kNow - 3 * 3600;
    for (int i = 0; i < 100; ++i) {
        std::string email = "old";
        email.append(std::to_string(i)).append("@example.com");
        tokens.create(idle, email, false, long_ago);
        tokens.create(org, email, false, long_ago);
    }
    tka::ExpirySweep sweep;
    std::int64_t deleted = 0;
    for (int pass = 0; pass < 10; ++pass) {
        const auto r = sweep.pass(redis, kNow, 16);
        CHECK(r.buckets <= 16);
        deleted += r.deleted;
    }
    CHECK(deleted == 200);
    const auto kept = tokens.create(idle, "kept@example.com", false, kNow);
    CHECK(redis.command({"HGET", tka::keys::org(idle.org_id), "n"}).str == "1");
    CHECK(redis.command({"HGET", tka::keys::org(org.org_id), "n"}).str == "0");
    CHECK(tokens.authenticate(idle.org_id, kept.user_id, kept.password, kNow).ok());
    // Nothing left of them: only the kept token's record, its index entries and e-mail.
    long long fields = 0;
    for (const auto& k : redis.command({"KEYS", "tka:*"}).elements) {
        if (k.str.find(":u:") != std::string::npos || k.str.find(":p:") != std::string::npos ||
            k.str.rfind("tka:tok:", 0) == 0) {
            fields += redis.command({"HLEN", k.str}).integer;
        }
    }
    CHECK(fields == 4);
}
