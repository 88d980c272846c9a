// Connecting: a valid token is accepted and can publish/subscribe; wrong or mismatched
// credentials are refused; credentials that are not tokens are left to the password file.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("a valid token connects and can publish and subscribe", "[e2e][connect][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");
    const auto bob = backend.mint(org, "bob@example.com");

    // By default a token client uses its organization's namespace, orgs/<org_id>/.
    std::string topic = "orgs/";
    topic.append(org.org_id).append("/greetings");
    MqttClient subscriber;
    REQUIRE(connect_with(subscriber, broker.port(), "alice-phone", alice) == 0);
    REQUIRE(subscriber.subscribe(topic, 1) == 1);

    MqttClient publisher;
    REQUIRE(connect_with(publisher, broker.port(), "bob-laptop", bob) == 0);
    REQUIRE(publisher.publish(topic, "hello from bob", 1));

    CHECK(subscriber.wait_message(topic, 5s) == std::optional<std::string>("hello from bob"));
    CHECK(subscriber.connected());
    CHECK(publisher.connected());
}

TEST_CASE("wrong or mismatched token credentials are refused", "[e2e][connect][matrix]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto acme = backend.org("acme", 3600);
    const auto globex = backend.org("globex", 3600);
    const auto alice = backend.mint(acme, "alice@example.com");
    const auto bob = backend.mint(acme, "bob@example.com");
    const auto carol = backend.mint(globex, "carol@example.com");

    MqttClient client;
    // Positive control: the broker and the plugin are up and alice's token works.
    REQUIRE(connect_with(client, broker.port(), "c", alice) == 0);
    client.disconnect();

    const auto expect_refused = [](const char* what, int rc) {
        INFO(what << ": CONNACK " << rc);
        CHECK(refused(rc));
    };
    expect_refused("wrong password", client.connect(broker.port(), "c", alice.username(),
                                                    "tkn_" + std::string(43, 'A')));
    expect_refused("another user's username with alice's password",
                   client.connect(broker.port(), "c", bob.username(), alice.password));
    expect_refused("another org's username with alice's password",
                   client.connect(broker.port(), "c", carol.username(), alice.password));
    expect_refused(
        "alice's user id in another org",
        client.connect(broker.port(), "c", alice.user_id + "@" + globex.org_id, alice.password));
    expect_refused("no password",
                   client.connect(broker.port(), "c", alice.username(), std::nullopt));
    expect_refused("anonymous", client.connect(broker.port(), "c", std::nullopt, std::nullopt));

    // The refusals did not disturb valid clients.
    CHECK(connect_with(client, broker.port(), "c", alice) == 0);
}

// The plugin checks token clients' topics (confined to their organization by default), and
// Mosquitto denies a topic that every ACL check leaves to others: password-file users get
// theirs from an acl_file.
TEST_CASE("a password-file user still connects next to the plugin", "[e2e][connect][matrix]") {
    Backend backend;
    auto config =
        token_broker(backend.redis, {}, {{"operator", "op-secret"}, {"sensor-7", "s7-secret"}});
    config.acl_file =
        "user operator\ntopic readwrite plant/#\nuser sensor-7\ntopic write plant/#\n";
    MosquittoBroker broker(config);
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");

    MqttClient op;
    REQUIRE(op.connect(broker.port(), "op", "operator", "op-secret") == 0);
    REQUIRE(op.subscribe("plant/#", 1) == 1);

    MqttClient sensor;
    REQUIRE(sensor.connect(broker.port(), "sensor-7", "sensor-7", "s7-secret") == 0);
    REQUIRE(sensor.publish("plant/temp", "21.5"));
    CHECK(op.wait_message("plant/temp", 5s) == std::optional<std::string>("21.5"));

    MqttClient wrong;
    const int rc = wrong.connect(broker.port(), "w", "operator", "not-the-password");
    INFO("password-file user with a wrong password: CONNACK " << rc);
    CHECK(refused(rc));

    // Token users work on the same broker.
    MqttClient token_user;
    CHECK(connect_with(token_user, broker.port(), "alice", alice) == 0);
}

TEST_CASE("oversized and malformed credentials are refused without harming the broker",
          "[e2e][connect]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");

    const std::vector<std::pair<std::string, std::string>> attempts = {
        {alice.username(), "tkn_" + std::string(60000, 'a')},
        {std::string(60000, 'u') + "@" + org.org_id, alice.password},
        {alice.user_id + "@org_" + std::string(5000, 'z'), alice.password},
        {"@" + org.org_id, alice.password},
        {alice.username() + "@" + org.org_id, alice.password},
        {alice.username(), "tkn_"},
        {alice.username(), alice.password + " "},
        {alice.username(), alice.password.substr(0, alice.password.size() - 1)},
    };
    for (const auto& [username, password] : attempts) {
        MqttClient client;
        const int rc = client.connect(broker.port(), "c", username, password);
        INFO("username of " << username.size() << " bytes, password of " << password.size()
                            << " bytes: CONNACK " << rc);
        CHECK(refused(rc));
    }
    MqttClient client;
    CHECK(connect_with(client, broker.port(), "c", alice) == 0);
    CHECK(broker.running());
}

// Mosquitto cuts every log line at 999 characters: the plugin puts the reason first and
// bounds the client's own text, so a refusal of a huge username still says why.
TEST_CASE("a refusal of a long username is logged with its reason", "[e2e][connect]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");

    std::string username(5000, 'u');
    username.append("@").append(org.org_id);
    const std::string client_id(5000, 'c');
    MqttClient client;
    CHECK(refused(client.connect(broker.port(), client_id, username, alice.password)));

    const std::string start = "token-auth: refused: malformed_username, client 'ccc";
    REQUIRE(wait_for_log(broker, start, 5s));
    const std::string log = broker.log();
    const std::size_t begin = log.find(start);
    const std::string line = log.substr(begin, log.find('\n', begin) - begin);
    INFO(line);
    CHECK(line.size() < 999);
    // Both texts are cut with their length, and the line is whole.
    CHECK(line.find("(5000 bytes)' (username 'uuu") != std::string::npos);
    std::string tail = std::to_string(username.size());
    tail.append(" bytes)')");
    CHECK(line.size() >= tail.size());
    CHECK(line.compare(line.size() - tail.size(), tail.size(), tail) == 0);
    CHECK(line.find(alice.password) == std::string::npos);
}
