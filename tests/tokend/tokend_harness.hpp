// Shared set-up of tokend's integration tests: a real redis-server, a real tokend process
// on a free loopback port, organizations created through tka::OrgStore, and small helpers
// to POST JSON and read JSON answers with the tests' own HTTP client
// (tests/support/http_client.hpp).
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/org_store.hpp"
#include "common/time_format.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace tka::test {

// The tokend under test: this build's, or the binary named by TKA_TOKEND_BINARY (to run
// the suite against another build of tokend, e.g. a Release build or a candidate server).
inline const std::string kTokendBinary = [] {
    const char* other = std::getenv("TKA_TOKEND_BINARY");
    return other != nullptr && *other != '\0' ? std::string(other)
                                              : std::string(TKA_BINARY_DIR "/tokend/tokend");
}();

struct TestOrg {
    std::string id;
    std::string key;
    std::int64_t ttl = 0;
};

inline TestOrg make_org(const RedisServer& redis, std::int64_t ttl = 3600, bool token_auth = true) {
    RedisConnection conn = redis.connect();
    NewOrganization created = OrgStore(conn).create("test org", ttl, token_auth, unix_now());
    return {created.org.org_id, created.first_key.secret_key, ttl};
}

// A tokend process. The destructor stops it (SIGTERM) via tka::test::Process.
class Tokend {
  public:
    explicit Tokend(const std::string& redis_url, std::vector<std::string> extra_args = {},
                    const std::map<std::string, std::string>& env = {})
        : port_(free_port()) {
        std::vector<std::string> argv = {kTokendBinary, "--redis-url", redis_url, "--listen",
                                         "127.0.0.1:" + std::to_string(port_)};
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        process_ = std::make_unique<Process>(argv, dir_.file("tokend.log"), env);
        if (!wait_for_port(port_, std::chrono::seconds(20))) {
            FAIL("tokend did not start:\n" << process_->log());
        }
    }

    // Stops tokend and fails the test when its log holds a sanitizer report (tokend runs
    // under ASan+UBSan, or TSan in the ThreadSanitizer run, like the tests).
    ~Tokend() {
        process_->stop();
        const std::string text = process_->log();
        if (std::uncaught_exceptions() == 0 && has_sanitizer_report(text)) {
            FAIL_CHECK("tokend reported a sanitizer error:\n" << text);
        }
    }
    Tokend(const Tokend&) = delete;
    Tokend& operator=(const Tokend&) = delete;

    int port() const { return port_; }
    Process& process() { return *process_; }
    std::string log() const { return process_->log(); }

    // A keep-alive client: 5 s to connect, 10 s for each answer.
    HttpClient client() const { return HttpClient("127.0.0.1", port_); }

  private:
    TempDir dir_;
    int port_;
    std::unique_ptr<Process> process_;
};

struct Reply {
    int status = 0;  // 0: no HTTP answer at all
    nlohmann::json json;
    std::string body;
    HttpHeaders headers;  // names compare without regard to case
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

inline Reply to_reply(const std::optional<HttpResponse>& response) {
    Reply r;
    if (!response) {
        return r;
    }
    r.status = response->status;
    r.body = response->body;
    r.headers = response->headers;
    r.json = nlohmann::json::parse(response->body, nullptr, false);
    return r;
}

inline Reply post_raw(HttpClient& client, const std::string& path, const std::string& body,
                      const std::string& content_type = "application/json") {
    return to_reply(client.post(path, body, content_type));
}

inline Reply post_json(HttpClient& client, const std::string& path, const nlohmann::json& body) {
    return post_raw(client, path, body.dump());
}

inline Reply get(HttpClient& client, const std::string& path) {
    return to_reply(client.get(path));
}

// A self-signed certificate for 127.0.0.1 (openssl req) and its key, written into `dir`;
// the certificate doubles as the CA file a verifying client trusts.
struct TlsFiles {
    std::string cert;
    std::string key;
};

inline TlsFiles make_tls_files(const TempDir& dir) {
    TlsFiles files{dir.file("cert.pem"), dir.file("key.pem")};
    auto gen = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    files.key, "-out", files.cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"});
    INFO(gen.err);
    REQUIRE(gen.exit_code == 0);
    return files;
}

inline nlohmann::json create_body(const TestOrg& org, const std::string& email) {
    return {{"organization_id", org.id}, {"secret_key", org.key}, {"user_email", email}};
}

inline nlohmann::json refresh_body(const nlohmann::json& token) {
    return {{"token_id", token["token_id"]}, {"current_token_password", token["access_token"]}};
}

// Fails the test with the tokend log attached when the status differs. `reply` is
// evaluated once.
#define TKA_REQUIRE_STATUS(reply, expected, tokend)  \
    do {                                             \
        const ::tka::test::Reply& tka_r_ = (reply);  \
        INFO("body: " << tka_r_.body);               \
        if (tka_r_.status != (expected)) {           \
            INFO("tokend log:\n" << (tokend).log()); \
            REQUIRE(tka_r_.status == (expected));    \
        }                                            \
    } while (false)

// The error body every failure carries, with the expected status and code.
#define TKA_REQUIRE_ERROR(reply, expected_status, expected_code, tokend) \
    do {                                                                 \
        const ::tka::test::Reply& tka_e_ = (reply);                      \
        TKA_REQUIRE_STATUS(tka_e_, expected_status, tokend);             \
        REQUIRE(tka_e_.json.is_object());                                \
        CHECK(tka_e_.json.value("error", "") == (expected_code));        \
        REQUIRE(tka_e_.json.contains("error_description"));              \
        CHECK(tka_e_.json["error_description"].is_string());             \
        CHECK(tka_e_.json.size() == 2);                                  \
    } while (false)

}  // namespace tka::test
