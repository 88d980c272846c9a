// The bounds tokend's HTTP front door puts on every connection and request, with their
// defaults (docs/http-api.md, "Limits"). Each is a flag and a TOKEND_* variable
// (tokend/config.cpp). Every network input is bounded in size and in time: a client that
// sends too much is answered from the header and closed, a client that sends too slowly is
// cut off by an absolute deadline, not by an idle timer it can keep resetting.
#pragma once

#include <chrono>
#include <cstddef>

namespace tka::tokend {

struct HttpLimits {
    using ms = std::chrono::milliseconds;

    // Absolute time from the first byte of a request until its header is complete (408).
    ms header_timeout{10000};
    // Absolute time from the end of the header until the body is complete (408).
    ms body_timeout{10000};
    // A kept-alive connection with no request in progress is closed after this long.
    ms idle_timeout{5000};
    // Time allowed to write one response (a client that does not read is closed).
    ms write_timeout{10000};
    // Request line plus header fields, in bytes (431 beyond).
    std::size_t max_header_bytes = 8 * 1024;
    // Header fields per request (431 beyond).
    std::size_t max_header_fields = 64;
    // Request body, Content-Length or chunked (413 beyond, answered after the header).
    std::size_t max_body_bytes = 64 * 1024;
    // Open connections in total; beyond it new connections get a 503 and are closed.
    std::size_t max_connections = 10000;
    // Open connections per client address; beyond it a 503 and closed.
    std::size_t max_connections_per_address = 256;
    // Requests served on one kept-alive connection before it is closed.
    std::size_t max_requests_per_connection = 1000;
};

}  // namespace tka::tokend
