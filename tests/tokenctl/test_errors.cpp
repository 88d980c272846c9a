// tokenctl's failure contract: non-zero exit and exactly one "tokenctl: ..." line on
// stderr, for bad flags, bad ids, bad TTLs, unknown organizations and a dead Redis; and
// nothing is written to Redis when the command line is wrong.
#include <chrono>

#include "tests/tokenctl/tokenctl_harness.hpp"

using namespace tka;
using namespace tka::test;

TEST_CASE("a TTL outside 1..2592000 is a usage error and creates nothing", "[tokenctl][errors]") {
    RedisServer redis;
    auto ttl = GENERATE(as<std::string>{}, "0", "2592001", "-1", "abc", "60s", "", "1.5");
    auto create = tokenctl(redis, {"org", "create", "--name", "Bad", "--ttl=" + ttl});
    require_one_line_error(create);
    CHECK(create.exit_code == 2);
    CHECK(tokenctl_json(redis, {"org", "list"}).empty());

    auto org = create_org(redis, "Good");
    auto set = tokenctl(redis, {"org", "set", org.org_id, "--ttl=" + ttl});
    require_one_line_error(set);
    CHECK(set.exit_code == 2);
    CHECK(tokenctl_json(redis, {"org", "show", org.org_id}).at("ttl") == 3600);
}

TEST_CASE("an organization name that is not a clean display name is refused and creates nothing",
          "[tokenctl][errors]") {
    RedisServer redis;
    create_org(redis, "Existing");
    struct BadName {
        std::string name;
        std::string sentence;
    };
    const auto bad = GENERATE(values<BadName>({
        {"invoice\xe2\x80\xae"
         "fdp.exe",
         "the name contains a bidirectional formatting character (U+202E) at byte offset 7"},
        {"Acme\xc2\x85"
         "Corp",
         "the name contains a control character (U+0085) at byte offset 4"},
        {"Acme\xc0\xaf", "the name is not valid UTF-8: an overlong encoding at byte offset 4"},
        {"Acme\x80", "the name is not valid UTF-8: a continuation byte without a lead byte"},
        {"Acme\xed\xa0\x80", "the name is not valid UTF-8: an encoded surrogate"},
        {"Acme\xe2\x82", "the name is not valid UTF-8: a truncated multi-byte sequence"},
        {" Acme", "the name begins with white space"},
        {std::string(129, 'a'), "longer than the limit of 128 bytes"},
    }));
    const auto before = tokenctl_json(redis, {"org", "list"});
    auto result = tokenctl(redis, {"org", "create", "--name", bad.name});
    require_one_line_error(result);
    CHECK(result.exit_code == 2);
    CHECK(result.err.rfind("tokenctl: invalid --name: the name ", 0) == 0);
    CHECK(result.err.find(bad.sentence) != std::string::npos);
    CHECK(result.err.find(bad.name) == std::string::npos);  // never echoed
    CHECK(tokenctl_json(redis, {"org", "list"}) == before);
}

TEST_CASE("names with accents, CJK, emoji and markup characters are kept as given",
          "[tokenctl][orgs]") {
    RedisServer redis;
    const std::string name = GENERATE(as<std::string>{}, "Société Générale", "東京電力",
                                      "Rocket \xf0\x9f\x9a\x80", "<b>&\"'", std::string(128, 'a'));
    const auto org = create_org(redis, name);
    CHECK(tokenctl_json(redis, {"org", "show", org.org_id}).at("name") == name);
}

TEST_CASE("an unknown organization is refused in one line", "[tokenctl][errors]") {
    RedisServer redis;
    const std::string unknown = "org_zzzzzzzzzzzz";
    auto args = GENERATE_COPY(values<std::vector<std::string>>({
        {"org", "show", unknown},
        {"org", "set", unknown, "--ttl", "60"},
        {"key", "create", unknown},
        {"key", "list", unknown},
        {"key", "import", unknown, "cs_legacyKEY0123456789"},
        {"key", "revoke", unknown, "key_aaaaaaaaaaaa"},
        {"token", "list", unknown},
        {"token", "revoke", unknown, "0b7e4a3c-9d2f-4c1e-8a5b-6f0d1e2c3b4a"},
    }));
    auto result = tokenctl(redis, args);
    require_one_line_error(result);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find(unknown) != std::string::npos);
}

TEST_CASE("malformed ids are usage errors", "[tokenctl][errors]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    auto args = GENERATE_COPY(values<std::vector<std::string>>({
        {"org", "show", "acme"},
        {"org", "show", "org_ABCDEFGHIJKL"},
        {"org", "show", "org_abc"},
        {"org", "set", "org_aaaaaaaaaaaa!", "--ttl", "60"},
        {"key", "list", "org_aaaaaaaaaaaa\n"},
        {"key", "revoke", org.org_id, "sk_notakeyid"},
        {"token", "revoke", org.org_id, "not-a-uuid"},
        {"token", "revoke", org.org_id, "0B7E4A3C-9D2F-4C1E-8A5B-6F0D1E2C3B4A"},
    }));
    auto result = tokenctl(redis, args);
    require_one_line_error(result);
    CHECK(result.exit_code == 2);
}

TEST_CASE("bad flags and missing commands are usage errors", "[tokenctl][errors]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    auto args = GENERATE_COPY(values<std::vector<std::string>>({
        {},
        {"org"},
        {"frobnicate"},
        {"org", "create"},
        {"org", "create", "--name", ""},
        {"org", "create", "--name", "x", "--token-auth", "maybe"},
        {"org", "create", "--name", "x", "--bogus"},
        {"org", "set", org.org_id},
        {"org", "show"},
        {"org", "show", org.org_id, "extra"},
        {"key", "import", org.org_id},
    }));
    auto result = tokenctl(redis, args);
    require_one_line_error(result);
    CHECK(result.exit_code == 2);
}

TEST_CASE("an unusable Redis URL is a usage error", "[tokenctl][errors]") {
    auto result = run({kTokenctl, "--redis-url", "http://nope", "org", "list"});
    require_one_line_error(result);
    CHECK(result.exit_code == 2);
}

TEST_CASE("Redis down fails fast in one line", "[tokenctl][errors]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    redis.stop();
    auto args = GENERATE_COPY(values<std::vector<std::string>>({
        {"org", "list"},
        {"org", "create", "--name", "x"},
        {"org", "show", org.org_id},
        {"token", "list", org.org_id},
    }));
    auto started = std::chrono::steady_clock::now();
    auto result = tokenctl(redis, args);
    auto elapsed = std::chrono::steady_clock::now() - started;
    require_one_line_error(result);
    CHECK(result.exit_code == 3);
    CHECK(result.err.find("Redis") != std::string::npos);
    CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("Redis errors never show the URL's password", "[tokenctl][errors]") {
    auto url = "redis://:hunter2pw@127.0.0.1:" + std::to_string(free_port());
    auto result = run({kTokenctl, "--redis-url", url, "org", "list"});
    require_one_line_error(result);
    CHECK(result.exit_code == 3);
    CHECK(result.err.find("hunter2pw") == std::string::npos);

    auto from_env = run({kTokenctl, "org", "list"}, "", {{"TOKENCTL_REDIS_URL", url}});
    require_one_line_error(from_env);
    CHECK(from_env.err.find("hunter2pw") == std::string::npos);
}

TEST_CASE("bad --redis-wait-* values are usage errors", "[tokenctl][errors]") {
    RedisServer redis;
    auto args = GENERATE(values<std::vector<std::string>>({
        {"--redis-wait-replicas", "-1", "org", "list"},
        {"--redis-wait-replicas", "many", "org", "list"},
        {"--redis-wait-ms", "0", "org", "list"},
        {"org", "list", "--redis-wait-ms", "61000"},
    }));
    auto result = tokenctl(redis, args);
    require_one_line_error(result);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("--redis-wait-") != std::string::npos);
}

TEST_CASE("waiting for 1 replica without a replica: a change fails saying it was not confirmed",
          "[tokenctl][errors]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme");
    auto result = tokenctl(redis, {"--redis-wait-replicas", "1", "--redis-wait-ms", "100", "org",
                                   "set", org.org_id, "--ttl", "600"});
    require_one_line_error(result);
    CHECK(result.exit_code == 3);
    CHECK(result.err.find("the write was not confirmed by 1 replica within 100 ms") !=
          std::string::npos);
    // Reading needs no replica.
    auto shown = tokenctl(redis, {"--redis-wait-replicas", "1", "org", "show", org.org_id});
    CHECK(shown.exit_code == 0);
}
