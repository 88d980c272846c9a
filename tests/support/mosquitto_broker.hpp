// A real Mosquitto broker for one test: generated config in its own temp dir, a free
// 127.0.0.1 port, the token-auth plugin with the test's plugin_opt_* lines, an optional
// password file, and the whole broker log (log_type all) captured for failure reports.
// Debian's /usr/sbin/mosquitto (2.0.11) unless TKA_MOSQUITTO names another binary (the
// upstream 2.0.x / 2.1.x builds of the compatibility matrix); TKA_E2E_PER_LISTENER=1 runs
// it with per_listener_settings true (mosquitto_broker.cpp).
// In sanitizer builds the broker runs with the ASan/UBSan runtimes preloaded so that the
// instrumented plugin can be loaded into the uninstrumented mosquitto binary.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tka::test {

struct BrokerConfig {
    // Absolute path of mosquitto_token_auth.so; empty: a broker without the plugin.
    std::string plugin_path;
    // ("redis_url", "redis://...") becomes "plugin_opt_redis_url redis://..."; repeat a
    // name to repeat the line. The environment variable TKA_E2E_PLUGIN_OPTS
    // ("name=value;name=value", e.g. "cache=off") adds lines before these, so a whole suite
    // can run with another plugin setting while a test's own lines still win.
    std::vector<std::pair<std::string, std::string>> plugin_opts;
    // (username, password) pairs written with mosquitto_passwd into a password_file.
    std::vector<std::pair<std::string, std::string>> password_users;
    // Content of an acl_file (mosquitto's own ACL format); empty: no acl_file line.
    std::string acl_file;
    // Verbatim extra mosquitto.conf lines.
    std::vector<std::string> extra_lines;
};

class MosquittoBroker {
  public:
    // Starts the broker and waits until its port accepts connections. Throws
    // std::runtime_error carrying the config and the broker log when it does not start.
    explicit MosquittoBroker(BrokerConfig config);
    // Stops the broker. Outside of stack unwinding, a broker that died during the test or
    // whose log holds a sanitizer report fails the current test (with the log excerpt).
    ~MosquittoBroker();
    MosquittoBroker(const MosquittoBroker&) = delete;
    MosquittoBroker& operator=(const MosquittoBroker&) = delete;

    int port() const { return port_; }
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    const std::string& config_text() const { return config_text_; }
    // The complete broker log so far / its last `lines` lines.
    std::string log() const;
    std::string log_tail(std::size_t lines) const;
    bool running();
    // Kills the broker with `sig` on purpose (e.g. SIGKILL: no plugin cleanup runs) and
    // waits for it; the destructor then does not report it as died during the test.
    void kill(int sig);

    // The last lines of every broker alive in this process, for failure reports.
    static std::string live_logs(std::size_t lines_each);

  private:
    bool try_start(std::string& why);
    void write_config();

    BrokerConfig config_;
    TempDir dir_;
    int port_ = 0;
    std::string config_text_;
    std::unique_ptr<Process> process_;
    bool died_reported_ = false;
};

}  // namespace tka::test
