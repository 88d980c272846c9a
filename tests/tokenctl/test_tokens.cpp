// tokenctl token list|revoke over tokens minted with TokenStore::create (what tokend does).
#include "common/identifiers.hpp"
#include "common/org_store.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "tests/tokenctl/tokenctl_harness.hpp"

using namespace tka;
using namespace tka::test;

namespace {

IssuedToken mint(const RedisServer& redis, const std::string& org_id, const std::string& email,
                 bool replace_existing = true) {
    auto conn = redis.connect();
    OrgStore orgs(conn);
    TokenStore tokens(conn);
    return tokens.create(orgs.get(org_id), email, replace_existing, unix_now());
}

const nlohmann::json* find_token(const nlohmann::json& list, const std::string& token_id) {
    for (const auto& token : list) {
        if (token.at("token_id") == token_id) {
            return &token;
        }
    }
    return nullptr;
}

}  // namespace

TEST_CASE("token list shows minted tokens with every field and no password", "[tokenctl][token]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme", {"--token-auth", "on", "--ttl", "600"});
    auto alice = mint(redis, org.org_id, "Alice@Example.com");
    auto bob = mint(redis, org.org_id, "bob@example.com");

    auto result = tokenctl(redis, {"token", "list", org.org_id, "--json"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find(alice.password) == std::string::npos);
    CHECK(result.out.find(bob.password) == std::string::npos);
    CHECK(result.out.find("tkn_") == std::string::npos);

    auto list = nlohmann::json::parse(result.out);
    REQUIRE(list.is_array());
    REQUIRE(list.size() == 2);
    const auto* token = find_token(list, alice.token_id);
    REQUIRE(token != nullptr);
    CHECK(token->at("user_id") == alice.user_id);
    CHECK(token->at("username") == alice.username());
    CHECK(token->at("user_email") == "alice@example.com");
    CHECK(token->at("status") == "active");
    CHECK(token->at("organization_id") == org.org_id);
    CHECK(token->at("ttl") == 600);
    CHECK(parse_rfc3339(token->at("expires_at").get<std::string>()) == alice.expires_at);
    CHECK(parse_rfc3339(token->at("created_at").get<std::string>()).has_value());
    CHECK(token->at("refreshed_at").is_null());
    for (const auto& t : list) {
        CHECK_FALSE(t.contains("password"));
        CHECK_FALSE(t.contains("pw"));
    }

    auto human = tokenctl(redis, {"token", "list", org.org_id});
    REQUIRE(human.exit_code == 0);
    CHECK(human.out.rfind("TOKEN ID", 0) == 0);
    CHECK(human.out.find(alice.token_id) != std::string::npos);
    CHECK(human.out.find(bob.token_id) != std::string::npos);
    CHECK(human.out.find("tkn_") == std::string::npos);
}

TEST_CASE("token list --email keeps one user's tokens", "[tokenctl][token]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme", {"--token-auth", "on"});
    auto first = mint(redis, org.org_id, "carol@example.com", false);
    auto second = mint(redis, org.org_id, "carol@example.com", false);
    mint(redis, org.org_id, "dave@example.com");

    auto list = tokenctl_json(redis, {"token", "list", org.org_id, "--email", "CAROL@example.com"});
    REQUIRE(list.size() == 2);
    CHECK(find_token(list, first.token_id) != nullptr);
    CHECK(find_token(list, second.token_id) != nullptr);
    for (const auto& token : list) {
        CHECK(token.at("user_email") == "carol@example.com");
    }

    auto replaced = mint(redis, org.org_id, "carol@example.com", true);
    list = tokenctl_json(redis, {"token", "list", org.org_id, "--email", "carol@example.com"});
    REQUIRE(find_token(list, first.token_id) != nullptr);
    CHECK(find_token(list, first.token_id)->at("status") == "replaced");
    CHECK(find_token(list, replaced.token_id)->at("status") == "active");

    require_one_line_error(
        tokenctl(redis, {"token", "list", org.org_id, "--email", "not-an-email"}));
}

TEST_CASE("token revoke flips the status and stops authentication", "[tokenctl][token]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme", {"--token-auth", "on"});
    auto token = mint(redis, org.org_id, "erin@example.com");
    auto other = mint(redis, org.org_id, "frank@example.com");

    auto result = tokenctl(redis, {"token", "revoke", org.org_id, token.token_id});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find(token.token_id) != std::string::npos);

    auto list = tokenctl_json(redis, {"token", "list", org.org_id});
    CHECK(find_token(list, token.token_id)->at("status") == "revoked");
    CHECK(find_token(list, other.token_id)->at("status") == "active");

    auto conn = redis.connect();
    TokenStore tokens(conn);
    auto lookup = tokens.authenticate(org.org_id, token.user_id, token.password, unix_now());
    CHECK(lookup.refusal.has_value());  // its password lookup is gone
    auto live = tokens.authenticate(org.org_id, other.user_id, other.password, unix_now());
    CHECK(live.ok());

    // Again: not an error, but says it was already revoked.
    auto again = tokenctl(redis, {"token", "revoke", org.org_id, token.token_id, "--json"});
    REQUIRE(again.exit_code == 0);
    auto json = nlohmann::json::parse(again.out);
    CHECK(json.at("revoked") == false);
    CHECK(json.at("status") == "revoked");
}

TEST_CASE("token revoke of an unknown token id fails in one line", "[tokenctl][token]") {
    RedisServer redis;
    auto org = create_org(redis, "Acme", {"--token-auth", "on"});
    auto result = tokenctl(redis, {"token", "revoke", org.org_id, ids::new_token_id()});
    require_one_line_error(result);
    CHECK(result.exit_code == 1);

    // A token of another organization is unknown here too.
    auto other = create_org(redis, "Other", {"--token-auth", "on"});
    auto foreign = mint(redis, other.org_id, "gina@example.com");
    require_one_line_error(tokenctl(redis, {"token", "revoke", org.org_id, foreign.token_id}));
}
