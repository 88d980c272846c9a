// The route table (see routes.hpp).
#include "tokend/routes.hpp"

#include <array>

namespace tka::tokend {

namespace {

constexpr std::array<RouteSpec, 5> kRoutes = {{
    {Route::create, "/v2/tokens/create", "POST", Lane::redis},
    {Route::refresh, "/v2/tokens/refresh", "POST", Lane::redis},
    {Route::revoke, "/v2/tokens/revoke", "POST", Lane::redis},
    {Route::healthz, "/healthz", "GET, HEAD", Lane::health},
    {Route::metrics, "/metrics", "GET, HEAD", Lane::local},
}};

}  // namespace

const RouteSpec* find_route(std::string_view path) {
    for (const RouteSpec& spec : kRoutes) {
        if (spec.path == path) {
            return &spec;
        }
    }
    return nullptr;
}

bool accepts(const RouteSpec& spec, std::string_view method) {
    if (spec.allow == "POST") {
        return method == "POST";
    }
    return method == "GET" || method == "HEAD";
}

std::string_view route_label(std::string_view path) {
    const RouteSpec* spec = find_route(path);
    return spec ? spec->path : std::string_view("other");
}

}  // namespace tka::tokend
