// tokenctl admin create|list|delete|reset-password: the dashboard's accounts, checked
// through AdminStore::verify, the call tokend's admin listener makes at login.
#include "common/admin_store.hpp"
#include "common/redis_keys.hpp"
#include "tests/tokenctl/tokenctl_harness.hpp"

using namespace tka;
using namespace tka::test;

namespace {

bool verifies(const RedisServer& redis, const std::string& name, const std::string& password) {
    auto conn = redis.connect();
    return AdminStore(conn).verify(name, password);
}

std::string stored_hash(const RedisServer& redis, const std::string& name) {
    auto conn = redis.connect();
    return conn.command({"HGET", keys::admins(), name}).str;
}

}  // namespace

TEST_CASE("admin create prints the generated password once", "[tokenctl][admin]") {
    RedisServer redis;
    auto result = tokenctl(redis, {"admin", "create", "--name", "alice"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.err.empty());
    // Two aligned lines, then the reminder.
    REQUIRE(result.out.rfind("admin     alice\npassword  ", 0) == 0);
    const auto start = std::string("admin     alice\npassword  ").size();
    const auto password = result.out.substr(start, result.out.find('\n', start) - start);
    CHECK(password.size() == 32);
    CHECK(result.out.find("shown only this once") != std::string::npos);
    CHECK(verifies(redis, "alice", password));
    CHECK_FALSE(verifies(redis, "alice", password + "x"));

    // Redis holds a scrypt hash, not the password.
    const auto stored = stored_hash(redis, "alice");
    CHECK(stored.find("scrypt$15$8$1$") != std::string::npos);
    CHECK(stored.find(password) == std::string::npos);

    // Nothing shows it again.
    auto list = tokenctl(redis, {"admin", "list"});
    CHECK(list.out.find(password) == std::string::npos);
    CHECK(tokenctl_json(redis, {"admin", "list"}).dump().find(password) == std::string::npos);
}

TEST_CASE("admin create --json and admin list", "[tokenctl][admin]") {
    RedisServer redis;
    auto json = tokenctl_json(redis, {"admin", "create", "--name", "Émile Zola"});
    REQUIRE(json.is_object());
    CHECK(json.size() == 2);
    CHECK(json.at("admin") == "Émile Zola");
    CHECK(verifies(redis, "Émile Zola", json.at("password").get<std::string>()));
    tokenctl_json(redis, {"admin", "create", "--name", "bob"});

    auto list = tokenctl_json(redis, {"admin", "list"});
    REQUIRE(list.is_array());
    REQUIRE(list.size() == 2);
    CHECK(list[0].at("admin") == "bob");
    CHECK(list[1].at("admin") == "Émile Zola");
    for (const auto& admin : list) {
        CHECK(admin.size() == 3);
        const auto created = admin.at("created_at").get<std::string>();
        CHECK(parse_rfc3339(created).has_value());
        CHECK(admin.at("password_changed_at") == created);
    }

    auto human = tokenctl(redis, {"admin", "list"});
    REQUIRE(human.exit_code == 0);
    CHECK(human.out.rfind("NAME        CREATED               PASSWORD CHANGED\n", 0) == 0);
    CHECK(human.out.find("\nbob  ") != std::string::npos);

    RedisServer empty;
    CHECK(tokenctl(empty, {"admin", "list"}).out == "no admin accounts\n");
    CHECK(tokenctl_json(empty, {"admin", "list"}) == nlohmann::json::array());
}

TEST_CASE("a second account of the same name is refused", "[tokenctl][admin]") {
    RedisServer redis;
    auto first = tokenctl_json(redis, {"admin", "create", "--name", "ops"});
    auto again = tokenctl(redis, {"admin", "create", "--name", "ops"});
    require_one_line_error(again);
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("already exists") != std::string::npos);
    CHECK(verifies(redis, "ops", first.at("password").get<std::string>()));
    CHECK(tokenctl_json(redis, {"admin", "list"}).size() == 1);
}

TEST_CASE("admin reset-password replaces the password and shows the new one once",
          "[tokenctl][admin]") {
    RedisServer redis;
    const auto old_password = tokenctl_json(redis, {"admin", "create", "--name", "ops"})
                                  .at("password")
                                  .get<std::string>();
    auto conn = redis.connect();
    AdminStore admins(conn);
    const auto session = admins.start_session("ops", unix_now(), {});

    auto json = tokenctl_json(redis, {"admin", "reset-password", "ops"});
    CHECK(json.at("admin") == "ops");
    const auto new_password = json.at("password").get<std::string>();
    CHECK(new_password != old_password);
    CHECK_FALSE(admins.verify("ops", old_password));
    CHECK(admins.verify("ops", new_password));
    CHECK_FALSE(admins.find_session(session.id, unix_now(), {}));  // logged out

    auto human = tokenctl(redis, {"admin", "reset-password", "ops"});
    REQUIRE(human.exit_code == 0);
    CHECK(human.out.rfind("admin     ops\npassword  ", 0) == 0);
    CHECK(human.out.find("shown only this once") != std::string::npos);
    CHECK_FALSE(admins.verify("ops", new_password));

    auto unknown = tokenctl(redis, {"admin", "reset-password", "nobody"});
    require_one_line_error(unknown);
    CHECK(unknown.exit_code == 1);
}

TEST_CASE("admin delete removes the account and its sessions", "[tokenctl][admin]") {
    RedisServer redis;
    const auto password = tokenctl_json(redis, {"admin", "create", "--name", "ops"})
                              .at("password")
                              .get<std::string>();
    tokenctl_json(redis, {"admin", "create", "--name", "other"});
    auto conn = redis.connect();
    AdminStore admins(conn);
    const auto session = admins.start_session("ops", unix_now(), {});

    auto result = tokenctl(redis, {"admin", "delete", "ops"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out == "deleted admin account ops and ended its sessions\n");
    CHECK_FALSE(admins.verify("ops", password));
    CHECK_FALSE(admins.find_session(session.id, unix_now(), {}));
    auto list = tokenctl_json(redis, {"admin", "list"});
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("admin") == "other");

    auto again = tokenctl(redis, {"admin", "delete", "ops"});
    require_one_line_error(again);
    CHECK(again.exit_code == 1);
    CHECK(again.err == "tokenctl: unknown admin account 'ops'\n");
}

TEST_CASE("admin names follow the display name rule", "[tokenctl][admin]") {
    RedisServer redis;
    const std::string bad = GENERATE(as<std::string>{}, "ev\u202Eil", "a\u0085b", "a\xc0\xaf",
                                     std::string(65, 'a'), "", " ops");
    auto create = tokenctl(redis, {"admin", "create", "--name", bad});
    require_one_line_error(create);
    CHECK(create.exit_code == 2);
    CHECK(create.err.rfind("tokenctl: invalid --name: the name ", 0) == 0);
    for (const std::string command : {"delete", "reset-password"}) {
        auto result = tokenctl(redis, {"admin", command, bad});
        require_one_line_error(result);
        CHECK(result.exit_code == 2);
    }
    CHECK(tokenctl_json(redis, {"admin", "list"}).empty());
    CHECK(tokenctl_json(redis, {"admin", "create", "--name", std::string(64, 'a')}).at("admin") ==
          std::string(64, 'a'));
}

TEST_CASE("admin commands without their arguments are usage errors", "[tokenctl][admin]") {
    RedisServer redis;
    auto args = GENERATE(values<std::vector<std::string>>({
        {"admin"},
        {"admin", "create"},
        {"admin", "create", "--name"},
        {"admin", "delete"},
        {"admin", "reset-password"},
        {"admin", "list", "extra"},
        {"admin", "rename", "a"},
    }));
    auto result = tokenctl(redis, args);
    require_one_line_error(result);
    CHECK(result.exit_code == 2);
}
