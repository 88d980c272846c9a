// tokenctl key create|import|list|revoke, checked through OrgStore::authenticate, the
// call tokend makes before minting.
#include <set>

#include "common/errors.hpp"
#include "common/identifiers.hpp"
#include "common/org_store.hpp"
#include "common/redis_keys.hpp"
#include "tests/tokenctl/tokenctl_harness.hpp"

using namespace tka;
using namespace tka::test;

namespace {

bool authenticates(const RedisServer& redis, const std::string& org_id, const std::string& key) {
    auto conn = redis.connect();
    OrgStore orgs(conn);
    try {
        orgs.authenticate(org_id, key);
        return true;
    } catch (const Denied&) {
        return false;
    }
}

const std::string kLegacyKey = "cs_legacyKEY0123456789_-abc";

}  // namespace

TEST_CASE("key create --json adds a second working key", "[tokenctl][key]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    auto json = tokenctl_json(redis, {"key", "create", org.org_id});
    auto key_id = json.at("key_id").get<std::string>();
    auto secret = json.at("secret_key").get<std::string>();
    CHECK(ids::is_key_id(key_id));
    CHECK(secret.rfind("sk_", 0) == 0);
    CHECK(secret != org.secret_key);
    CHECK(authenticates(redis, org.org_id, secret));
    CHECK(authenticates(redis, org.org_id, org.secret_key));

    auto human = tokenctl(redis, {"key", "create", org.org_id});
    REQUIRE(human.exit_code == 0);
    CHECK(human.out.find("secret_key  sk_") != std::string::npos);
}

TEST_CASE("key list shows ids, never secrets", "[tokenctl][key]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    auto created = tokenctl_json(redis, {"key", "create", org.org_id});

    auto list = tokenctl_json(redis, {"key", "list", org.org_id});
    REQUIRE(list.is_array());
    REQUIRE(list.size() == 2);
    bool found = false;
    for (const auto& key : list) {
        CHECK(ids::is_key_id(key.at("key_id").get<std::string>()));
        CHECK(key.at("legacy") == false);
        CHECK_FALSE(key.contains("secret_key"));
        found = found || key.at("key_id") == created.at("key_id");
    }
    CHECK(found);
    // The first 7 characters of each key, to recognise it; never more.
    const auto secret = created.at("secret_key").get<std::string>();
    std::set<std::string> prefixes;
    for (const auto& key : list) {
        prefixes.insert(key.at("prefix").get<std::string>());
    }
    CHECK(prefixes == std::set<std::string>{org.secret_key.substr(0, 7), secret.substr(0, 7)});

    auto human = tokenctl(redis, {"key", "list", org.org_id});
    REQUIRE(human.exit_code == 0);
    CHECK(human.out.rfind("KEY ID            PREFIX   KIND  CREATED", 0) == 0);
    CHECK(human.out.find(created.at("key_id").get<std::string>()) != std::string::npos);
    CHECK(human.out.find(secret.substr(0, 7) + "  sk_") != std::string::npos);
    CHECK(human.out.find(org.secret_key.substr(0, 7) + "  sk_") != std::string::npos);
    CHECK(human.out.find(secret.substr(0, 8)) == std::string::npos);
    CHECK(human.out.find(org.secret_key.substr(0, 8)) == std::string::npos);
}

TEST_CASE("keys stored without a prefix list with none", "[tokenctl][key]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    auto conn = redis.connect();
    const auto key_id =
        tokenctl_json(redis, {"key", "list", org.org_id}).at(0).at("key_id").get<std::string>();
    // The key as an earlier version stored it: digest, created_at, legacy.
    conn.command({"HSET", keys::secret_keys(org.org_id), key_id,
                  R"({"digest":"00","created_at":1,"legacy":false})"});
    const auto list = tokenctl_json(redis, {"key", "list", org.org_id});
    CHECK(list.at(0).at("prefix") == "");
    auto human = tokenctl(redis, {"key", "list", org.org_id});
    CHECK(human.out.find(key_id + "  -       sk_") != std::string::npos);
}

TEST_CASE("key revoke makes the key stop authenticating", "[tokenctl][key]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    auto created = tokenctl_json(redis, {"key", "create", org.org_id});
    auto key_id = created.at("key_id").get<std::string>();
    auto secret = created.at("secret_key").get<std::string>();
    REQUIRE(authenticates(redis, org.org_id, secret));

    auto revoke = tokenctl(redis, {"key", "revoke", org.org_id, key_id});
    INFO(revoke.err);
    REQUIRE(revoke.exit_code == 0);
    CHECK_FALSE(authenticates(redis, org.org_id, secret));
    CHECK(authenticates(redis, org.org_id, org.secret_key));
    CHECK(tokenctl_json(redis, {"key", "list", org.org_id}).size() == 1);

    // Revoking it again: a refusal, in one line.
    require_one_line_error(tokenctl(redis, {"key", "revoke", org.org_id, key_id}));
}

TEST_CASE("key import of a legacy cs_ key makes it authenticate", "[tokenctl][key]") {
    RedisServer redis;
    auto org = create_org(redis, "Legacy");
    REQUIRE_FALSE(authenticates(redis, org.org_id, kLegacyKey));

    auto result = tokenctl(redis, {"key", "import", org.org_id, kLegacyKey});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find(kLegacyKey) == std::string::npos);
    CHECK(authenticates(redis, org.org_id, kLegacyKey));

    auto list = tokenctl_json(redis, {"key", "list", org.org_id});
    auto legacy = std::count_if(list.begin(), list.end(),
                                [](const nlohmann::json& k) { return k.at("legacy") == true; });
    CHECK(legacy == 1);
    for (const auto& k : list) {
        if (k.at("legacy") == true) {
            CHECK(k.at("prefix") == "cs_lega");
        }
    }

    // The same key twice is a conflict.
    auto again = tokenctl(redis, {"key", "import", org.org_id, kLegacyKey});
    require_one_line_error(again);
    CHECK(again.err.find(kLegacyKey) == std::string::npos);
}

TEST_CASE("key import - reads the key from stdin", "[tokenctl][key]") {
    RedisServer redis;
    auto org = create_org(redis, "Stdin");
    auto result = tokenctl(redis, {"key", "import", org.org_id, "-"}, "  " + kLegacyKey + "\n");
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(authenticates(redis, org.org_id, kLegacyKey));

    require_one_line_error(tokenctl(redis, {"key", "import", org.org_id, "-"}, ""));
}

TEST_CASE("key import refuses anything but a cs_ key without echoing it", "[tokenctl][key]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    auto bad = GENERATE(as<std::string>{}, "sk_abcdefghijklmnopqrstuvwxyz0123456789AB", "cs_short",
                        "cs_has space in it 0123456789");
    auto result = tokenctl(redis, {"key", "import", org.org_id, bad});
    require_one_line_error(result);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find(bad) == std::string::npos);
}
