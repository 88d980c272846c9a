// Prints the tail of every live broker's log when an assertion fails, so a red e2e test
// shows what mosquitto and the plugin said at that moment (as mosquitto's own test suite
// does), without every test having to INFO the log itself.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <iostream>

#include "tests/support/mosquitto_broker.hpp"

namespace {

class BrokerLogOnFailure : public Catch::TestEventListenerBase {
  public:
    using TestEventListenerBase::TestEventListenerBase;

    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.isOk()) {
            const std::string logs = tka::test::MosquittoBroker::live_logs(40);
            if (!logs.empty()) {
                std::cerr << logs << std::flush;
            }
        }
        return true;
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(BrokerLogOnFailure)
