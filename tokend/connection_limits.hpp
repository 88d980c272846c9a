// How many connections tokend holds open, in total and per client address, and the
// refusal of one more beyond either bound (docs/http-api.md, "Limits"). An IPv6 client is
// counted by its /64, the block one subscriber usually holds, so an address-hopping client
// within it is still one client. Thread-safe; every accepted connection holds a Slot that
// gives its place back when the connection ends.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include <boost/asio/ip/address.hpp>

namespace tka::tokend {

class ConnectionLimits {
  public:
    enum class Refusal { none, max_connections, per_address };

    ConnectionLimits(std::size_t max_total, std::size_t max_per_address)
        : max_total_(max_total), max_per_address_(max_per_address) {}

    class Slot {
      public:
        Slot() = default;
        Slot(ConnectionLimits* limits, std::string key) : limits_(limits), key_(std::move(key)) {}
        Slot(Slot&& other) noexcept : limits_(other.limits_), key_(std::move(other.key_)) {
            other.limits_ = nullptr;
        }
        Slot& operator=(Slot&& other) noexcept {
            std::swap(limits_, other.limits_);
            std::swap(key_, other.key_);
            return *this;
        }
        Slot(const Slot&) = delete;
        ~Slot();

      private:
        ConnectionLimits* limits_ = nullptr;
        std::string key_;
    };

    // A slot for a new connection from `address`, or the limit that refuses it. A trusted
    // reverse proxy (`per_address` false) carries many clients and counts only in the total.
    Refusal try_open(const boost::asio::ip::address& address, Slot& slot, bool per_address = true);

    std::size_t open() const;

    // The key an address is counted under ("203.0.113.7", "2001:db8:1:2::/64").
    static std::string key_of(const boost::asio::ip::address& address);

  private:
    void release(const std::string& key);

    const std::size_t max_total_;
    const std::size_t max_per_address_;
    mutable std::mutex mutex_;
    std::size_t open_ = 0;
    std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace tka::tokend
