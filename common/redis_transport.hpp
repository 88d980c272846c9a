// The byte stream under a RedisConnection. hiredis (0.14) still speaks the protocol, its
// reader parses replies and its formatter encodes commands, but the socket is ours, so the
// same connection code runs over TCP, a unix socket or TLS (socket_transport.hpp,
// tls_transport.hpp). Every operation takes a deadline and waits with poll() on a
// non-blocking socket: nothing under a RedisConnection can block past its timeout.
// Failures throw RedisError with a message fit for a log line (never a secret); the
// connection that owns the transport then counts as broken and drops it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace tka {

using Deadline = std::chrono::steady_clock::time_point;

class RedisTransport {
  public:
    virtual ~RedisTransport() = default;
    RedisTransport() = default;
    RedisTransport(const RedisTransport&) = delete;
    RedisTransport& operator=(const RedisTransport&) = delete;

    // Sends every byte of `data`, or throws RedisError (timeout, reset, TLS error).
    virtual void write_all(std::string_view data, Deadline deadline) = 0;
    // Reads 1..size bytes into `buf`, or throws RedisError (timeout, closed, TLS error).
    virtual std::size_t read_some(char* buf, std::size_t size, Deadline deadline) = 0;
};

}  // namespace tka
