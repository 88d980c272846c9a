// CONNECT packets written byte by byte (bench/mqtt_wire.hpp), for what libmosquitto cannot
// send: a password with a NUL byte inside. MQTT passwords are binary, but Mosquitto hands a
// plugin the password as a C string (struct mosquitto_evt_basic_auth has no length, in 2.0
// and 2.1 alike; the broker reads the length from the packet and drops it), so the plugin
// sees the bytes before the first NUL only. What follows is what that means for tokens.
#include <catch2/catch.hpp>

#include "bench/mqtt_wire.hpp"
#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;
namespace wire = tka::bench::mqtt;

namespace {

// CONNACK return code for a raw MQTT 3.1.1 CONNECT, or -1 when the broker closed without one.
int raw_connect(int port, const std::string& client_id, const std::string& username,
                const std::string& password) {
    const int fd = wire::connect_blocking(port, 5000ms);
    REQUIRE(fd >= 0);
    int code = -1;
    if (wire::write_all(fd, wire::connect_packet(client_id, username, password))) {
        wire::PacketSplitter splitter;
        if (const auto packet = wire::read_packet(fd, splitter)) {
            code = wire::connack_code(*packet);
        }
    }
    ::close(fd);
    return code;
}

}  // namespace

TEST_CASE("a token password cut short by a NUL byte is refused", "[e2e][connect]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    const auto org = backend.org("acme", 3600);
    const auto alice = backend.mint(org, "alice@example.com");

    // Positive control: the same raw CONNECT with the password as issued.
    CHECK(raw_connect(broker.port(), "raw-ok", alice.username(), alice.password) == 0);

    // The NUL inside the token: the plugin sees a prefix, which is no token at all.
    std::string cut = alice.password.substr(0, alice.password.size() - 1);
    cut.push_back('\0');
    cut.push_back(alice.password.back());
    CHECK(raw_connect(broker.port(), "raw-cut", alice.username(), cut) == 5);
    CHECK(wait_for_log(broker, "refused: malformed_password, client 'raw-cut'", 5s));

    // Right after "tkn_": an empty token.
    std::string empty = "tkn_";
    empty.push_back('\0');
    empty.append(alice.password.substr(4));
    CHECK(raw_connect(broker.port(), "raw-empty", alice.username(), empty) == 5);
    CHECK(broker.running());
}

// `tkn_<valid>\0garbage` is accepted as `tkn_<valid>`: the plugin cannot tell, because no
// supported broker gives it the password's length (tests/e2e/CMakeLists.txt registers the
// test that would check the refusal as skipped, with this reason; docs/plugin.md, "Limits").
// The caller must hold the valid token anyway: the bytes after the NUL add nothing.
