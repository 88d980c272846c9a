// OrgStore against a real Redis: organizations, TTL bounds, secret keys (sk_ and legacy
// cs_), authentication, and the org.updated event that tells brokers about token auth.
#include <catch2/catch.hpp>

#include <functional>
#include <map>

#include "common/errors.hpp"
#include "common/identifiers.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "tests/support/denied_reason.hpp"
#include "tests/support/redis_server.hpp"

using tka::test::reason_of;

TEST_CASE("an organization is created with its first key, off by default") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::OrgStore orgs(redis);

    auto created = orgs.create("Acme", 3600, false, 1000);
    CHECK(tka::ids::is_org_id(created.org.org_id));
    CHECK(created.first_key.secret_key.rfind("sk_", 0) == 0);

    auto org = orgs.get(created.org.org_id);
    CHECK(org.name == "Acme");
    CHECK(org.ttl == 3600);
    CHECK_FALSE(org.token_auth);
    CHECK(org.created_at == 1000);
    CHECK(org.user_salt.size() == 64);
    REQUIRE(orgs.list().size() == 1);

    // Redis holds no clear-text secret key anywhere.
    auto dump = redis.command({"HGETALL", tka::keys::secret_keys(org.org_id)});
    for (const auto& e : dump.elements) {
        CHECK(e.str.find(created.first_key.secret_key) == std::string::npos);
    }
}

TEST_CASE("TTL bounds, names and unknown organizations are refused clearly") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::OrgStore orgs(redis);
    CHECK(reason_of([&] { orgs.create("x", 0, true, 1); }) == tka::Refusal::bad_request);
    CHECK(reason_of([&] { orgs.create("x", 2592001, true, 1); }) == tka::Refusal::bad_request);
    CHECK(reason_of([&] { orgs.create("", 60, true, 1); }) == tka::Refusal::bad_request);
    CHECK(reason_of([&] { orgs.create("a\u202Eb", 60, true, 1); }) ==
          tka::Refusal::bad_request);  // U+202E, the rule of common/display_name.hpp
    CHECK_NOTHROW(orgs.create("one second", 1, true, 1));
    CHECK_NOTHROW(orgs.create("thirty days", 2592000, true, 1));
    CHECK(reason_of([&] { orgs.get("org_000000000000"); }) == tka::Refusal::unknown_org);
    CHECK(reason_of([&] { orgs.update("org_000000000000", 60, {}); }) == tka::Refusal::unknown_org);
}

TEST_CASE("update changes TTL and token auth and announces it on the event stream") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::OrgStore orgs(redis);
    auto id = orgs.create("Acme", 3600, false, 1).org.org_id;

    auto org = orgs.update(id, 120, true);
    CHECK(org.ttl == 120);
    CHECK(org.token_auth);
    org = orgs.update(id, std::nullopt, false);
    CHECK(org.ttl == 120);
    CHECK_FALSE(org.token_auth);

    auto events = redis.command({"XRANGE", tka::keys::events(), "-", "+"});
    REQUIRE(events.elements.size() == 2);
    const auto& fields = events.elements[1].elements[1].elements;
    std::map<std::string, std::string> last;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        last[fields[i].str] = fields[i + 1].str;
    }
    CHECK(last["type"] == "org.updated");
    CHECK(last["org"] == id);
    CHECK(last["token_auth"] == "0");
    CHECK(last["ttl"] == "120");
}

TEST_CASE("secret keys: authenticate, create, import legacy, revoke") {
    tka::test::RedisServer server;
    auto redis = server.connect();
    tka::OrgStore orgs(redis);
    auto a = orgs.create("A", 3600, true, 1);
    auto b = orgs.create("B", 3600, true, 1);
    const auto& a_id = a.org.org_id;

    CHECK(orgs.authenticate(a_id, a.first_key.secret_key).org_id == a_id);
    CHECK(reason_of([&] { orgs.authenticate(a_id, b.first_key.secret_key); }) ==
          tka::Refusal::bad_secret_key);
    CHECK(reason_of([&] { orgs.authenticate("org_zzzzzzzzzzzz", a.first_key.secret_key); }) ==
          tka::Refusal::unknown_org);
    CHECK(reason_of([&] { orgs.authenticate("not an org", a.first_key.secret_key); }) ==
          tka::Refusal::unknown_org);

    auto second = orgs.create_key(a_id, 2);
    CHECK(orgs.authenticate(a_id, second.secret_key).org_id == a_id);

    const std::string legacy = "cs_LegacyKeyFromTheOldDashboard42";
    CHECK(reason_of([&] { orgs.authenticate(a_id, legacy); }) == tka::Refusal::bad_secret_key);
    auto imported = orgs.import_key(a_id, legacy, 3);
    CHECK(imported.legacy);
    CHECK(orgs.authenticate(a_id, legacy).org_id == a_id);
    CHECK(reason_of([&] { orgs.import_key(a_id, legacy, 4); }) == tka::Refusal::conflict);
    CHECK(reason_of([&] { orgs.import_key(a_id, "sk_notlegacynotlegacynotlegacy12", 4); }) ==
          tka::Refusal::bad_request);

    auto keys = orgs.list_keys(a_id);
    REQUIRE(keys.size() == 3);
    CHECK(keys[0].key_id == a.first_key.key_id);
    CHECK(keys[2].legacy);
    // The first 7 characters of each key are kept, to recognise it.
    CHECK(keys[0].prefix == a.first_key.secret_key.substr(0, 7));
    CHECK(keys[1].prefix == second.secret_key.substr(0, 7));
    CHECK(keys[2].prefix == "cs_Lega");
    CHECK(imported.prefix == "cs_Lega");

    orgs.revoke_key(a_id, a.first_key.key_id);
    CHECK(reason_of([&] { orgs.authenticate(a_id, a.first_key.secret_key); }) ==
          tka::Refusal::bad_secret_key);
    CHECK(orgs.authenticate(a_id, second.secret_key).org_id == a_id);
    CHECK(reason_of([&] { orgs.revoke_key(a_id, a.first_key.key_id); }) == tka::Refusal::not_found);
}
