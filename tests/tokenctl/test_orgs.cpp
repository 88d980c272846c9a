// tokenctl org create|set|show|list, driven as a subprocess against a real Redis.
#include "common/identifiers.hpp"
#include "common/org_store.hpp"
#include "common/time_format.hpp"
#include "tests/tokenctl/tokenctl_harness.hpp"

using namespace tka;
using namespace tka::test;

TEST_CASE("org create --json prints an org id and a working sk_ key", "[tokenctl][org]") {
    RedisServer redis;
    auto json = tokenctl_json(redis, {"org", "create", "--name", "Acme"});
    auto org_id = json.at("organization_id").get<std::string>();
    auto key = json.at("secret_key").get<std::string>();
    CHECK(ids::is_org_id(org_id));
    CHECK(key.rfind("sk_", 0) == 0);
    CHECK(ids::is_secret_key(key));

    auto conn = redis.connect();
    OrgStore orgs(conn);
    auto org = orgs.authenticate(org_id, key);
    CHECK(org.name == "Acme");
    CHECK_FALSE(org.token_auth);  // off unless --token-auth on
    CHECK(org.ttl == kDefaultTtlSeconds);
}

TEST_CASE("org create honours --ttl and --token-auth on", "[tokenctl][org]") {
    RedisServer redis;
    auto created = create_org(redis, "Fleet", {"--ttl", "60", "--token-auth", "on"});
    auto shown = tokenctl_json(redis, {"org", "show", created.org_id});
    CHECK(shown.at("organization_id") == created.org_id);
    CHECK(shown.at("name") == "Fleet");
    CHECK(shown.at("ttl") == 60);
    CHECK(shown.at("token_auth") == true);
    CHECK(parse_rfc3339(shown.at("created_at").get<std::string>()).has_value());
    CHECK_FALSE(shown.contains("secret_key"));
    CHECK_FALSE(shown.contains("user_salt"));
}

TEST_CASE("org create prints the id and key for humans, with a warning", "[tokenctl][org]") {
    RedisServer redis;
    auto result = tokenctl(redis, {"org", "create", "--name", "Humans Inc"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.err.empty());
    CHECK(result.out.find("organization_id  org_") != std::string::npos);
    CHECK(result.out.find("secret_key       sk_") != std::string::npos);
    CHECK(result.out.find("shown only this once") != std::string::npos);
}

TEST_CASE("org show reflects org set", "[tokenctl][org]") {
    RedisServer redis;
    auto created = create_org(redis, "Acme");

    auto set =
        tokenctl(redis, {"org", "set", created.org_id, "--ttl", "120", "--token-auth", "on"});
    INFO(set.err);
    REQUIRE(set.exit_code == 0);
    auto shown = tokenctl_json(redis, {"org", "show", created.org_id});
    CHECK(shown.at("ttl") == 120);
    CHECK(shown.at("token_auth") == true);

    REQUIRE(tokenctl(redis, {"org", "set", created.org_id, "--token-auth", "off"}).exit_code == 0);
    shown = tokenctl_json(redis, {"org", "show", created.org_id});
    CHECK(shown.at("ttl") == 120);  // untouched
    CHECK(shown.at("token_auth") == false);

    auto human = tokenctl(redis, {"org", "show", created.org_id});
    REQUIRE(human.exit_code == 0);
    CHECK(human.out.find("120 s (2m)") != std::string::npos);
    CHECK(human.out.find("token_auth       off") != std::string::npos);
}

TEST_CASE("org set accepts the TTL bounds 1 and 2592000", "[tokenctl][org]") {
    RedisServer redis;
    auto created = create_org(redis, "Bounds");
    auto ttl = GENERATE(as<std::string>{}, "1", "2592000");
    REQUIRE(tokenctl(redis, {"org", "set", created.org_id, "--ttl", ttl}).exit_code == 0);
    CHECK(tokenctl_json(redis, {"org", "show", created.org_id}).at("ttl") == std::stoll(ttl));
}

TEST_CASE("org list shows every organization", "[tokenctl][org]") {
    RedisServer redis;
    CHECK(tokenctl_json(redis, {"org", "list"}) == nlohmann::json::array());
    auto a = create_org(redis, "Alpha");
    auto b = create_org(redis, "Beta", {"--token-auth", "on"});

    auto list = tokenctl_json(redis, {"org", "list"});
    REQUIRE(list.is_array());
    REQUIRE(list.size() == 2);
    std::map<std::string, nlohmann::json> by_id;
    for (const auto& org : list) {
        by_id[org.at("organization_id").get<std::string>()] = org;
        CHECK_FALSE(org.contains("secret_key"));
    }
    CHECK(by_id.at(a.org_id).at("name") == "Alpha");
    CHECK(by_id.at(b.org_id).at("token_auth") == true);

    auto human = tokenctl(redis, {"org", "list"});
    REQUIRE(human.exit_code == 0);
    CHECK(human.out.rfind("ORGANIZATION", 0) == 0);
    CHECK(human.out.find(a.org_id) != std::string::npos);
    CHECK(human.out.find("Beta") != std::string::npos);
    CHECK(human.out.find(a.secret_key) == std::string::npos);
}

TEST_CASE("the Redis URL comes from TOKENCTL_REDIS_URL or follows the command", "[tokenctl][org]") {
    RedisServer redis;
    auto from_env = run({kTokenctl, "org", "create", "--name", "Env", "--json"}, "",
                        {{"TOKENCTL_REDIS_URL", redis.url()}});
    INFO(from_env.err);
    REQUIRE(from_env.exit_code == 0);
    auto org_id = nlohmann::json::parse(from_env.out).at("organization_id").get<std::string>();

    auto trailing = run({kTokenctl, "org", "show", org_id, "--redis-url", redis.url()});
    INFO(trailing.err);
    REQUIRE(trailing.exit_code == 0);
    CHECK(trailing.out.find("Env") != std::string::npos);
}

TEST_CASE("tokenctl --help prints usage and exits 0", "[tokenctl]") {
    auto result = run({kTokenctl, "--help"});
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("org") != std::string::npos);
    auto sub = run({kTokenctl, "org", "create", "--help"});
    CHECK(sub.exit_code == 0);
    CHECK(sub.out.find("--token-auth") != std::string::npos);
}

TEST_CASE("tokenctl --version prints the project version and exits 0", "[tokenctl]") {
    auto result = run({kTokenctl, "--version"});
    CHECK(result.exit_code == 0);
    CHECK(result.out == std::string("tokenctl ") + TKA_VERSION + "\n");
}
