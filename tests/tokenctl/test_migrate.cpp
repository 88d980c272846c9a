// tokenctl migrate: tokens written in the previous Redis layout (with raw commands, exactly
// the keys and values the previous create/revoke scripts wrote) are moved by the real
// tokenctl binary; afterwards they authenticate, list, refresh and revoke as before, the
// old keys are gone, and running it again (or after a cut run) is harmless.
#include <map>
#include <optional>

#include "common/crypto.hpp"
#include "common/identifiers.hpp"
#include "common/layout_migration.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "tests/support/denied_reason.hpp"
#include "tests/support/legacy_tokens.hpp"
#include "tests/tokenctl/tokenctl_harness.hpp"

using namespace tka;
using namespace tka::test;

namespace {

using OldToken = IssuedToken;

OldToken write_old_token(RedisConnection& c, const Organization& org, const std::string& email,
                         const std::string& status, UnixSeconds created, UnixSeconds expires,
                         UnixSeconds refreshed = 0, std::optional<OldToken> same = {}) {
    return write_legacy_token(c, org, email, status, created, expires, refreshed, same);
}

long long old_keys(RedisConnection& c) {
    long long n = 0;
    for (const char* pattern : {"tka:{*}:token:*", "tka:{*}:pw:*", "tka:{*}:user:*",
                                "tka:{*}:live:*", "tka:{*}:tokens", "tka:tokenorg:*"}) {
        n += static_cast<long long>(c.command({"KEYS", pattern}).elements.size());
    }
    return n;
}

}  // namespace

TEST_CASE("tokenctl migrate moves tokens of the previous layout, idempotently",
          "[tokenctl][migrate]") {
    RedisServer redis;
    auto conn = redis.connect();
    const UnixSeconds now = unix_now();
    OrgStore orgs(conn);
    const Organization org = orgs.create("Acme", 3600, true, now).org;
    const Organization other = orgs.create("Other", 600, true, now).org;

    const auto alice =
        write_old_token(conn, org, "alice@example.com", "active", now - 100, now + 3500);
    const auto alice_old =
        write_old_token(conn, org, "alice@example.com", "replaced", now - 200, now + 3400);
    const auto bob = write_old_token(conn, org, "bob@example.com", "revoked", now - 50, now + 3550);
    const auto carol = write_old_token(conn, org, "carol@example.com", "active", now - 4000,
                                       now - 400);  // expired, within the hour of retention
    const auto dave =
        write_old_token(conn, other, "dave@example.com", "active", now - 60, now + 540, now - 60);
    // Listed in the org's set, but its record has expired from Redis.
    conn.command({"ZADD", keys::legacy::org_tokens(org.org_id), std::to_string(now - 100),
                  ids::new_token_id()})
        .expect_ok("ZADD");
    CHECK(legacy_layout_present(conn));

    TokenStore tokens(conn);
    // Before the migration, the current version does not see them.
    CHECK(reason_of([&] { tokens.refresh(alice.token_id, alice.password, now); }) ==
          Refusal::unknown_token);

    auto first = tokenctl_json(redis, {"migrate"});
    CHECK(first.at("organizations") == 2);
    CHECK(first.at("migrated") == 5);
    CHECK(first.at("already_migrated") == 0);
    CHECK(first.at("expired") == 1);
    CHECK(first.at("old_keys_deleted").get<long long>() > 0);
    CHECK(old_keys(conn) == 0);
    CHECK(conn.command({"GET", keys::layout_version()}).str == "2");
    CHECK_FALSE(legacy_layout_present(conn));

    // They authenticate as before: same id, user, expiry; dead ones stay dead.
    auto a = tokens.authenticate(org.org_id, alice.user_id, alice.password, now);
    CHECK(a.ok());
    CHECK(a.token_id == alice.token_id);
    CHECK(a.expires_at == now + 3500);
    CHECK(tokens.authenticate(org.org_id, alice.user_id, alice_old.password, now).refusal ==
          Refusal::unknown_token);
    CHECK(tokens.authenticate(org.org_id, bob.user_id, bob.password, now).refusal ==
          Refusal::unknown_token);
    CHECK(tokens.authenticate(org.org_id, carol.user_id, carol.password, now).refusal ==
          Refusal::expired);
    CHECK(tokens.authenticate(other.org_id, dave.user_id, dave.password, now).ok());

    // Listed with their times and statuses.
    const auto listed = tokens.list(org.org_id, now);
    REQUIRE(listed.size() == 4);
    std::map<std::string, TokenRecord> by_id;
    for (const auto& r : listed) {
        by_id[r.token_id] = r;
    }
    CHECK(by_id.at(alice.token_id).status == "active");
    CHECK(by_id.at(alice.token_id).email == "alice@example.com");
    CHECK(by_id.at(alice.token_id).created_at == now - 100);
    CHECK(by_id.at(alice_old.token_id).status == "replaced");
    CHECK(by_id.at(bob.token_id).status == "revoked");
    CHECK(by_id.at(carol.token_id).status == "expired");
    const auto d = tokens.get(other.org_id, dave.token_id, now);
    REQUIRE(d);
    CHECK(d->refreshed_at == now - 60);
    CHECK(d->ttl == 600);
    CHECK(tokens.list_email(org, "alice@example.com", now).size() == 2);

    // A second run finds nothing to do.
    auto second = tokenctl_json(redis, {"migrate"});
    CHECK(second.at("migrated") == 0);
    CHECK(second.at("already_migrated") == 0);
    CHECK(second.at("old_keys_deleted") == 0);

    // A run cut short after writing a token but before deleting its old keys: the rerun
    // sees the token in place and only deletes the leftovers.
    const auto erin = write_old_token(conn, org, "erin@example.com", "active", now, now + 3600);
    conn.command({"DEL", keys::layout_version()}).expect_ok("DEL");
    CHECK(legacy_layout_present(conn));
    auto third = tokenctl_json(redis, {"migrate"});
    CHECK(third.at("migrated") == 1);
    write_old_token(conn, org, "erin@example.com", "active", now, now + 3600, 0, erin);
    auto text = tokenctl(redis, {"migrate"});
    INFO(text.out << text.err);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("tokens migrated:  0") != std::string::npos);
    CHECK(text.out.find("already migrated: 1") != std::string::npos);
    CHECK(old_keys(conn) == 0);
    CHECK(tokens.authenticate(org.org_id, erin.user_id, erin.password, now).ok());
    CHECK(tokens.list_email(org, "erin@example.com", now).size() == 1);

    // Refresh and revoke work on migrated tokens.
    const auto refreshed = tokens.refresh(alice.token_id, alice.password, now + 10);
    CHECK(refreshed.email == "alice@example.com");
    CHECK(refreshed.user_id == alice.user_id);
    CHECK(tokens.authenticate(org.org_id, alice.user_id, refreshed.password, now + 10).ok());
    CHECK(tokens.authenticate(org.org_id, alice.user_id, alice.password, now + 10).refusal ==
          Refusal::unknown_token);
    auto revoked = tokenctl_json(redis, {"token", "revoke", org.org_id, alice.token_id});
    INFO(revoked.dump());
    CHECK(tokens.authenticate(org.org_id, alice.user_id, refreshed.password, now + 10).refusal ==
          Refusal::unknown_token);
    CHECK(tokens.revoke(other.org_id, dave.token_id, now) ==
          std::vector<std::string>{dave.token_id});
}
