// MqttClient: libmosquitto driven by our own thread calling mosquitto_loop(), so a dropped
// connection is never re-established behind the test's back (loop_forever would reconnect).
#include "tests/support/mqtt_client.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include <mosquitto.h>

namespace tka::test {

namespace {

void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

MqttClient::MqttClient(int protocol_version) : protocol_version_(protocol_version) {
    init_library_once();
}

MqttClient::~MqttClient() {
    close();
}

int MqttClient::connect(int port, const std::string& client_id,
                        const std::optional<std::string>& username,
                        const std::optional<std::string>& password,
                        std::chrono::milliseconds timeout) {
    close();
    {
        std::lock_guard lock(mutex_);
        connack_.reset();
        connected_ = false;
        socket_closed_ = false;
        closed_at_.reset();
        closing_ = false;
        stop_ = false;
        subacks_.clear();
        pubacks_.clear();
        messages_.clear();
    }
    mosq_ = mosquitto_new(client_id.c_str(), !persistent_session_, this);
    if (mosq_ == nullptr) {
        throw std::runtime_error("mosquitto_new failed");
    }
    mosquitto_threaded_set(mosq_, true);
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, protocol_version_);
    mosquitto_connect_callback_set(mosq_, &MqttClient::on_connect);
    mosquitto_disconnect_callback_set(mosq_, &MqttClient::on_disconnect);
    mosquitto_subscribe_callback_set(mosq_, &MqttClient::on_subscribe);
    mosquitto_publish_callback_set(mosq_, &MqttClient::on_publish);
    mosquitto_message_callback_set(mosq_, &MqttClient::on_message);
    if (username || password) {
        mosquitto_username_pw_set(mosq_, username ? username->c_str() : nullptr,
                                  password ? password->c_str() : nullptr);
    }
    if (mosquitto_connect(mosq_, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
        close();
        return kNoConnack;
    }
    thread_ = std::thread([this] { network_loop(); });

    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return connack_.has_value() || socket_closed_; });
    return connack_.value_or(kNoConnack);
}

bool MqttClient::connected() const {
    std::lock_guard lock(mutex_);
    return connected_;
}

int MqttClient::subscribe(const std::string& filter, int qos, std::chrono::milliseconds timeout) {
    int mid = 0;
    if (!connected() || mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) {
        return -1;
    }
    std::unique_lock lock(mutex_);
    int granted = -1;
    changed_.wait_for(lock, timeout, [&] {
        auto it = std::find_if(subacks_.begin(), subacks_.end(),
                               [mid](const auto& s) { return s.first == mid; });
        if (it == subacks_.end()) {
            return false;
        }
        granted = it->second;
        return true;
    });
    return granted;
}

bool MqttClient::publish(const std::string& topic, const std::string& payload, int qos,
                         std::chrono::milliseconds timeout) {
    int mid = 0;
    if (!connected() ||
        mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), qos, false) != MOSQ_ERR_SUCCESS) {
        return false;
    }
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
        return std::find(pubacks_.begin(), pubacks_.end(), mid) != pubacks_.end();
    });
}

std::optional<std::string> MqttClient::wait_message(const std::string& topic,
                                                    std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<std::string> payload;
    changed_.wait_for(lock, timeout, [&] {
        auto it = std::find_if(messages_.begin(), messages_.end(),
                               [&](const auto& m) { return m.first == topic; });
        if (it == messages_.end()) {
            return false;
        }
        payload = it->second;
        messages_.erase(it);
        return true;
    });
    return payload;
}

std::vector<std::pair<std::string, std::string>> MqttClient::messages() const {
    std::lock_guard lock(mutex_);
    return {messages_.begin(), messages_.end()};
}

std::optional<MqttClient::Clock::time_point> MqttClient::wait_disconnected(
    std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return closed_at_.has_value(); });
    return closed_at_;
}

void MqttClient::disconnect() {
    if (mosq_ == nullptr) {
        return;
    }
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    if (mosquitto_disconnect(mosq_) == MOSQ_ERR_SUCCESS) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, std::chrono::seconds(2), [this] { return socket_closed_; });
    }
    close();
}

void MqttClient::close() {
    if (thread_.joinable()) {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
            closing_ = true;
        }
        thread_.join();
    }
    if (mosq_ != nullptr) {
        mosquitto_destroy(mosq_);  // closes the socket if still open
        mosq_ = nullptr;
    }
    std::lock_guard lock(mutex_);
    connected_ = false;
}

void MqttClient::network_loop() {
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (stop_) {
                return;
            }
        }
        // 20 ms select timeout: a closed socket wakes select at once, so the recorded
        // disconnect time is not quantised by this value.
        if (mosquitto_loop(mosq_, 20, 1) != MOSQ_ERR_SUCCESS) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
}

void MqttClient::on_connect(mosquitto*, void* self, int rc) {
    auto* c = static_cast<MqttClient*>(self);
    std::lock_guard lock(c->mutex_);
    c->connack_ = rc;
    c->connected_ = (rc == 0);
    c->changed_.notify_all();
}

void MqttClient::on_disconnect(mosquitto*, void* self, int) {
    const auto now = Clock::now();
    auto* c = static_cast<MqttClient*>(self);
    std::lock_guard lock(c->mutex_);
    if (c->connected_ && !c->closing_) {
        c->closed_at_ = now;
    }
    c->connected_ = false;
    c->socket_closed_ = true;
    c->changed_.notify_all();
}

void MqttClient::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
    auto* c = static_cast<MqttClient*>(self);
    std::lock_guard lock(c->mutex_);
    c->subacks_.emplace_back(mid, count > 0 ? granted[0] : -1);
    c->changed_.notify_all();
}

void MqttClient::on_publish(mosquitto*, void* self, int mid) {
    auto* c = static_cast<MqttClient*>(self);
    std::lock_guard lock(c->mutex_);
    c->pubacks_.push_back(mid);
    c->changed_.notify_all();
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* msg) {
    auto* c = static_cast<MqttClient*>(self);
    std::string payload;
    if (msg->payload != nullptr) {
        payload.assign(static_cast<const char*>(msg->payload),
                       static_cast<std::size_t>(msg->payloadlen));
    }
    std::lock_guard lock(c->mutex_);
    c->messages_.emplace_back(msg->topic, std::move(payload));
    c->changed_.notify_all();
}

}  // namespace tka::test
