// Session cookie, CSRF and Origin checks of the admin listener (see admin_auth.hpp).
#include "tokend/admin_auth.hpp"

#include <openssl/crypto.h>

#include <boost/beast/core/string.hpp>

namespace tka::tokend::admin {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string attributes(bool secure) {
    return secure ? "; Path=/; HttpOnly; SameSite=Strict; Secure"
                  : "; Path=/; HttpOnly; SameSite=Strict";
}

}  // namespace

std::optional<std::string> session_cookie(std::string_view header) {
    while (!header.empty()) {
        const auto semi = header.find(';');
        const std::string_view pair = trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != kSessionCookie) {
            continue;
        }
        std::string_view value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        if (value.empty()) {
            return std::nullopt;
        }
        return std::string(value);
    }
    return std::nullopt;
}

std::string session_cookie_header(std::string_view session_id, bool secure) {
    return std::string(kSessionCookie).append("=").append(session_id).append(attributes(secure));
}

std::string cleared_cookie_header(bool secure) {
    return std::string(kSessionCookie).append("=; Max-Age=0").append(attributes(secure));
}

bool csrf_matches(std::string_view expected, std::string_view given) {
    if (expected.empty() || expected.size() != given.size()) {
        return false;
    }
    return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

bool origin_allowed(std::string_view origin, std::string_view host) {
    if (origin.empty()) {
        return true;
    }
    const auto scheme_end = origin.find("://");
    if (scheme_end == std::string_view::npos) {
        return false;  // "null" and anything else that is not scheme://host[:port]
    }
    const std::string_view scheme = origin.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") {
        return false;
    }
    std::string_view origin_host = origin.substr(scheme_end + 3);
    if (!origin_host.empty() && origin_host.back() == '/') {
        origin_host.remove_suffix(1);
    }
    const std::string_view h = trim(host);
    return !origin_host.empty() &&
           boost::beast::iequals(boost::beast::string_view(origin_host.data(), origin_host.size()),
                                 boost::beast::string_view(h.data(), h.size()));
}

}  // namespace tka::tokend::admin
