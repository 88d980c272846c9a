// One client connection of tokend's front door, plain TCP or TLS, from accept to close.
//
//   [TLS handshake] -> header -> checks -> [body] -> answer -> write -> next request | close
//
// Every step has a bound (tokend/http_limits.hpp): the header and the body each have an
// absolute deadline that a trickling client cannot extend; the header has a size and a
// field-count limit; a declared body over the limit is answered 413 right after the header
// and never read; a chunked body is cut at the same limit. Requests on one connection are
// served one after the other, so pipelined requests are answered in order. A request whose
// body is not read, or that broke the framing rules, is the connection's last: the answer
// says `Connection: close` and the connection is closed (after a short, bounded drain so
// the client sees the answer instead of a reset).
//
// Nothing here waits on Redis: a request that needs Redis goes to a RedisWorkers queue (or
// the health probe) and the answer comes back to the session's strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <memory>

#include "tokend/admin_handler.hpp"
#include "tokend/api.hpp"
#include "tokend/client_address.hpp"
#include "tokend/connection_limits.hpp"
#include "tokend/health_probe.hpp"
#include "tokend/http_limits.hpp"
#include "tokend/metrics.hpp"
#include "tokend/redis_workers.hpp"
#include "tokend/request_log.hpp"

namespace tka::tokend {

// What every session of one server shares.
struct SessionContext {
    const HttpLimits& limits;
    Api& api;
    RedisWorkers& workers;
    HealthProbe& health;
    Metrics& metrics;
    RequestLog& log;
    // Requests between a complete header and their written answer; stop() waits for 0.
    std::atomic<int> in_flight{0};
    // Set by stop(): sessions close after their current answer instead of keeping alive.
    std::atomic<bool> stopping{false};
    // When set, the token endpoints run against this service instead of Redis (the HTTP
    // fuzzer's in-memory store); it must be safe to call from every worker.
    TokenService* service = nullptr;
    // Reverse proxies whose client-address header is believed (client_address.hpp).
    const ProxyConfig* proxy = nullptr;
    // Set on the admin listener's context: every request goes whole to this handler on
    // `workers` (the admin workers), never to the token API.
    admin::AdminHandler* admin = nullptr;
};

// Starts serving an accepted connection; `slot` is its place in the connection limits.
// `tls`: nullptr for plain HTTP. The session keeps itself alive until it closes.
void start_session(boost::asio::ip::tcp::socket socket, ConnectionLimits::Slot slot,
                   SessionContext& context, boost::asio::ssl::context* tls);

// Answers a connection refused at accept (plain HTTP: 503 with Retry-After, then close;
// TLS: closed without an answer, which would need a handshake) at bounded cost: at most a
// few hundred such connections linger at once (counted in `lingering`), the rest are
// closed at once.
void refuse_connection(boost::asio::ip::tcp::socket socket, bool tls, std::atomic<int>& lingering);

}  // namespace tka::tokend
