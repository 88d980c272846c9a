// Self-tests of the broker harness: a broker that dies during a test must turn the test
// red even when no assertion looked at it (that is how a plugin crash shows up).
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <thread>

#include "tests/e2e/e2e_fixture.hpp"

using namespace tka;
using namespace tka::e2e;

TEST_CASE("the harness fails a test whose broker died", "[e2e][harness][!shouldfail]") {
    Backend backend;
    MosquittoBroker broker(token_broker(backend.redis));
    MqttClient client;
    REQUIRE(client.connect(broker.port(), "c", std::nullopt, std::nullopt) != 0);
    REQUIRE(::kill(broker.pid(), SIGKILL) == 0);  // our own child, by its PID
    // A dead broker is one that has exited: wait (bounded) until the kernel reports it, so
    // the check below never races the delivery of SIGKILL on a loaded machine.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (broker.running() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // ~MosquittoBroker must now FAIL_CHECK: the test is expected to fail.
}
