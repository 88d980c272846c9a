// A real MQTT 3.1.1 (or, on request, MQTT 5) client for end-to-end tests: RAII over libmosquitto
// with its own network thread, callbacks recorded into mutex/condvar-protected state so a test can
// wait for a CONNACK, a SUBACK, a message or the moment the broker closed the connection. It never
// reconnects on its own: a closed connection stays closed, which is what the tests observe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace tka::test {

class MqttClient {
  public:
    using Clock = std::chrono::steady_clock;

    // Special connect() results besides the CONNACK return code (0 accepted, 4 bad
    // username or password, 5 not authorised).
    static constexpr int kNoConnack = -1;  // timeout, refused socket, or closed without CONNACK
    // subscribe() result when the broker refused the subscription (SUBACK 0x80).
    static constexpr int kSubscriptionRefused = 0x80;

    // protocol_version: 4 (MQTT 3.1.1) or 5 (MQTT 5: connect() returns the CONNACK's reason
    // code, e.g. 0x87 not authorized, 0x88 server unavailable).
    explicit MqttClient(int protocol_version = 4);
    ~MqttClient();
    MqttClient(const MqttClient&) = delete;
    MqttClient& operator=(const MqttClient&) = delete;

    // Later connect()s ask for a persistent session (MQTT 3.1.1: clean session false; MQTT 5
    // sends clean start false without a session expiry interval, so there the session still
    // ends with the connection).
    void set_persistent_session(bool persistent) { persistent_session_ = persistent; }

    // Connects to 127.0.0.1:port (clean session unless set_persistent_session(true),
    // keepalive 60 s) and waits for the CONNACK.
    // A nullopt username/password is left out of the CONNECT packet. Any earlier connection
    // of this object is closed first.
    int connect(int port, const std::string& client_id, const std::optional<std::string>& username,
                const std::optional<std::string>& password,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // True between an accepted CONNACK and the end of the connection.
    bool connected() const;

    // Subscribes and waits for the SUBACK: the granted QoS, kSubscriptionRefused, or -1 when
    // not connected / no SUBACK within the timeout.
    int subscribe(const std::string& filter, int qos = 1,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Publishes and, for QoS 1, waits for the PUBACK (so the broker has routed the message
    // when this returns true). False when not connected or on timeout.
    bool publish(const std::string& topic, const std::string& payload, int qos = 1,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Removes and returns the first received message on exactly `topic`, waiting for one.
    std::optional<std::string> wait_message(const std::string& topic,
                                            std::chrono::milliseconds timeout);
    // Every message received so far and not taken by wait_message: (topic, payload).
    std::vector<std::pair<std::string, std::string>> messages() const;

    // Waits until the connection is closed (by the broker or the network) and returns when
    // that happened; nullopt when it is still open after `timeout`. A connection that never
    // got a CONNACK 0 does not count.
    std::optional<Clock::time_point> wait_disconnected(std::chrono::milliseconds timeout);

    // Closes the connection cleanly (DISCONNECT packet); not recorded as a broker close.
    void disconnect();

  private:
    static void on_connect(mosquitto*, void* self, int rc);
    static void on_disconnect(mosquitto*, void* self, int rc);
    static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted);
    static void on_publish(mosquitto*, void* self, int mid);
    static void on_message(mosquitto*, void* self, const mosquitto_message* msg);
    void network_loop();
    void close();

    int protocol_version_ = 4;
    bool persistent_session_ = false;
    mosquitto* mosq_ = nullptr;
    std::thread thread_;
    bool stop_ = false;  // guarded by mutex_; tells network_loop to return

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<int> connack_;                  // CONNACK code of the current attempt
    bool connected_ = false;                      // CONNACK 0 and not closed since
    bool socket_closed_ = false;                  // on_disconnect seen for this attempt
    std::optional<Clock::time_point> closed_at_;  // when an accepted connection closed
    bool closing_ = false;                        // we asked for the close ourselves
    std::vector<std::pair<int, int>> subacks_;    // (mid, first granted qos)
    std::vector<int> pubacks_;                    // mids acknowledged
    std::deque<std::pair<std::string, std::string>> messages_;  // (topic, payload)
};

}  // namespace tka::test
