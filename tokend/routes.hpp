// tokend's route table: every path it serves, the methods each accepts and what a request
// to it needs. One table for the API (routing, 405 with Allow), the HTTP server (which
// requests go to a Redis worker, which are answered on the event loop), /metrics and the
// access log (route labels), so the routes are spelled once.
#pragma once

#include <string_view>

namespace tka::tokend {

enum class Route { create, refresh, revoke, healthz, metrics };

// Where a request to the route is answered.
enum class Lane {
    redis,   // on a Redis worker (the token endpoints)
    health,  // on the health probe's own Redis connection (/healthz)
    local,   // on the event loop, from memory (/metrics)
};

struct RouteSpec {
    Route route;
    std::string_view path;
    std::string_view allow;  // methods, as in an Allow header
    Lane lane;
};

// The route of an exact path (no query string), or nullptr.
const RouteSpec* find_route(std::string_view path);

// Whether `method` is one the route accepts (HEAD wherever GET is).
bool accepts(const RouteSpec& spec, std::string_view method);

// The route's path, or "other" for any other path: a bounded set of metric labels
// whatever paths clients send.
std::string_view route_label(std::string_view path);

}  // namespace tka::tokend
