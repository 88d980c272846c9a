// Connection counting (see connection_limits.hpp).
#include "tokend/connection_limits.hpp"

#include <algorithm>

namespace tka::tokend {

ConnectionLimits::Slot::~Slot() {
    if (limits_) {
        limits_->release(key_);
    }
}

std::string ConnectionLimits::key_of(const boost::asio::ip::address& address) {
    if (address.is_v6()) {
        const auto v6 = address.to_v6();
        if (v6.is_v4_mapped()) {
            return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
        }
        auto bytes = v6.to_bytes();
        std::fill(bytes.begin() + 8, bytes.end(), 0);
        return boost::asio::ip::address_v6(bytes).to_string() + "/64";
    }
    return address.to_string();
}

ConnectionLimits::Refusal ConnectionLimits::try_open(const boost::asio::ip::address& address,
                                                     Slot& slot, bool per_address) {
    std::string key = per_address ? key_of(address) : std::string("proxy");
    std::lock_guard lock(mutex_);
    if (open_ >= max_total_) {
        return Refusal::max_connections;
    }
    std::size_t& count = per_address_[key];
    if (per_address && count >= max_per_address_) {
        if (count == 0) {
            per_address_.erase(key);
        }
        return Refusal::per_address;
    }
    ++count;
    ++open_;
    slot = Slot(this, std::move(key));
    return Refusal::none;
}

void ConnectionLimits::release(const std::string& key) {
    std::lock_guard lock(mutex_);
    --open_;
    auto it = per_address_.find(key);
    if (it != per_address_.end() && --it->second == 0) {
        per_address_.erase(it);
    }
}

std::size_t ConnectionLimits::open() const {
    std::lock_guard lock(mutex_);
    return open_;
}

}  // namespace tka::tokend
