// Set-up of the operator dashboard's integration tests: a real redis-server, a real tokend
// with its admin listener on a second free loopback port, admin accounts made through
// tka::AdminStore (as `tokenctl admin create` does), and AdminClient, a client of the admin
// listener that keeps the session cookie like a browser and sends the CSRF token of its
// session with every state change of the JSON API.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/admin_store.hpp"
#include "tests/tokend/tokend_harness.hpp"

namespace tka::test {

inline NewAdmin make_admin(const RedisServer& redis, const std::string& name) {
    RedisConnection conn = redis.connect();
    return AdminStore(conn).create(name, unix_now());
}

// tokend with --admin-listen on its own free port (extra flags appended).
class AdminTokend {
  public:
    explicit AdminTokend(const RedisServer& redis, std::vector<std::string> extra = {})
        : admin_port_(free_port()), tokend_(redis.url(), with_admin(admin_port_, extra)) {
        if (!wait_for_port(admin_port_, std::chrono::seconds(20))) {
            FAIL("the admin listener did not start:\n" << tokend_.log());
        }
    }

    int admin_port() const { return admin_port_; }
    Tokend& tokend() { return tokend_; }
    std::string log() const { return tokend_.log(); }
    // The public listener.
    HttpClient client() const { return tokend_.client(); }

  private:
    static std::vector<std::string> with_admin(int port, std::vector<std::string> extra) {
        extra.insert(extra.begin(), {"--admin-listen", "127.0.0.1:" + std::to_string(port)});
        return extra;
    }

    int admin_port_;
    Tokend tokend_;
};

// A browser-like client of the admin listener: one connection, the tka_admin cookie kept
// from Set-Cookie (and dropped when the server clears it), the session's CSRF token from
// the JSON sign-in.
class AdminClient {
  public:
    explicit AdminClient(int port, HttpClientOptions options = {})
        : client_("127.0.0.1", port, std::move(options)) {}

    // Sent with every request (X-Forwarded-For behind a trusted proxy, Origin, ...).
    HttpHeaders headers;
    std::string cookie;  // the session id, "" when signed out
    std::string csrf;    // the session's CSRF token (JSON sign-in)

    Reply send(const std::string& method, const std::string& target, const std::string& body = "",
               const std::string& content_type = "", const HttpHeaders& extra = {}) {
        HttpRequest request;
        request.method = method;
        request.target = target;
        request.body = body;
        request.headers = headers;
        for (const auto& [name, value] : extra) {
            request.headers.erase(name);
            request.headers.emplace(name, value);
        }
        if (!content_type.empty()) {
            request.headers.emplace("Content-Type", content_type);
        }
        if (!cookie.empty() && !request.headers.count("Cookie")) {
            request.headers.emplace("Cookie", "tka_admin=" + cookie);
        }
        Reply reply = to_reply(client_.send(request));
        keep_cookie(reply);
        return reply;
    }

    // The JSON API: a state change carries the session's CSRF token.
    Reply api(const std::string& method, const std::string& path,
              const nlohmann::json& body = nullptr) {
        HttpHeaders extra;
        if (method != "GET" && !csrf.empty()) {
            extra.emplace("X-CSRF-Token", csrf);
        }
        return send(method, path, body.is_null() ? std::string() : body.dump(),
                    body.is_null() ? std::string() : std::string("application/json"), extra);
    }

    Reply login(const std::string& name, const std::string& password) {
        Reply r = send("POST", "/admin/api/login",
                       nlohmann::json({{"name", name}, {"password", password}}).dump(),
                       "application/json");
        if (r.status == 200 && r.json.is_object()) {
            csrf = r.json.value("csrf", "");
        }
        return r;
    }

    // A form POST as a browser sends it.
    Reply form(const std::string& path, const std::string& body) {
        return send("POST", path, body, "application/x-www-form-urlencoded");
    }

  private:
    void keep_cookie(const Reply& reply) {
        const auto [first, last] = reply.headers.equal_range("Set-Cookie");
        for (auto it = first; it != last; ++it) {
            const std::string& value = it->second;
            if (value.rfind("tka_admin=", 0) != 0) {
                continue;
            }
            const auto end = value.find(';');
            cookie = value.substr(10, end == std::string::npos ? std::string::npos : end - 10);
        }
    }

    HttpClient client_;
};

// Every answer of the admin listener carries these.
inline void check_admin_headers(const Reply& r) {
    CHECK(r.header("Cache-Control") == "no-store");
    CHECK(r.header("Content-Security-Policy") == "default-src 'self'; frame-ancestors 'none'");
    CHECK(r.header("X-Content-Type-Options") == "nosniff");
    CHECK(r.header("Referrer-Policy") == "same-origin");
}

}  // namespace tka::test
