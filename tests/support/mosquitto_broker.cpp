// MosquittoBroker: writes mosquitto.conf (+ password file) into a private temp dir, starts
// the broker on a free loopback port and waits for the port. The broker binary is
// $TKA_MOSQUITTO when set (an upstream build of the compatibility matrix, e.g.
// build/upstream/mosquitto-2.1.2/build/src/mosquitto), else /usr/sbin/mosquitto.
// TKA_E2E_PER_LISTENER=1 writes `per_listener_settings true` instead of false; the config
// is laid out so that it means the same on 2.0.x and 2.1.x either way: the
// per_listener_settings line first (both refuse it after a security option), then the
// listener, then every security option (allow_anonymous, password_file, acl_file, plugin and
// its plugin_opt_* lines), which with per-listener settings apply to the listener above
// them (2.1 even refuses them before any listener).
// Started as root, mosquitto drops to the `mosquitto` user before it loads plugins and reads
// the password file, so the temp dir and its files are made world-readable; if the plugin
// itself is not reachable by that user (e.g. a build dir under a private home), the broker
// keeps root.
#include "tests/support/mosquitto_broker.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>

namespace tka::test {
namespace {

const char* const kDefaultMosquitto = "/usr/sbin/mosquitto";
constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr int kStartAttempts = 3;  // a free port can be taken between probe and bind

std::mutex registry_mutex;
std::set<const MosquittoBroker*> registry;  // brokers alive in this process

// True when every directory on the way to `path` is searchable by others and the file is
// readable by others: what the unprivileged `mosquitto` user needs to dlopen it.
bool reachable_by_others(const std::string& path) {
    namespace fs = std::filesystem;
    fs::path p = fs::absolute(path);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || (st.st_mode & S_IROTH) == 0) {
        return false;
    }
    for (p = p.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
        if (::stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) {
            return false;
        }
    }
    return true;
}

// The broker binary: $TKA_MOSQUITTO, or Debian's.
std::string mosquitto_binary() {
    const char* env = std::getenv("TKA_MOSQUITTO");
    return env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultMosquitto);
}

// TKA_E2E_PER_LISTENER=1: the broker runs with per_listener_settings true.
bool per_listener_settings() {
    const char* env = std::getenv("TKA_E2E_PER_LISTENER");
    return env != nullptr && std::string(env) == "1";
}

// Sanitizer runtimes to preload into the broker (set by tests/e2e/CMakeLists.txt in
// TKA_SANITIZE and TKA_TSAN builds), with their options.
std::map<std::string, std::string> broker_environment([[maybe_unused]] const TempDir& dir) {
    std::map<std::string, std::string> env;
#ifdef TKA_BROKER_PRELOAD
    env["LD_PRELOAD"] = TKA_BROKER_PRELOAD;
#endif
#ifdef TKA_BROKER_ASAN_OPTIONS
    // mosquitto itself is not instrumented; leaks are only reported for what the plugin
    // allocates, and the broker must not abort on them at exit (see docs/testing.md).
    env["ASAN_OPTIONS"] = TKA_BROKER_ASAN_OPTIONS;
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1";
    if (per_listener_settings()) {
        // Mosquitto 2.0.11 with per_listener_settings true never frees a listener's plugin
        // config (264 bytes plus its plugin_opt_* strings, more with every option line; no
        // leak with per_listener_settings false, none on 2.1.2). Those blocks come from the
        // broker's own allocator, which the plugin does not call, so only they are
        // suppressed; LeakSanitizer reads the file after the broker dropped to `mosquitto`.
        const std::string file =
            dir.write("lsan.supp", "leak:mosquitto__realloc\nleak:mosquitto__strdup\n");
        ::chmod(file.c_str(), 0644);
        env["LSAN_OPTIONS"] = "suppressions=" + file + ":print_suppressions=0";
    }
#endif
#ifdef TKA_BROKER_TSAN
    // Only the plugin is instrumented: TSan sees its memory accesses and every thread, lock
    // and allocation of the process. A report goes to the log, which fails the test (see
    // has_sanitizer_report); the broker keeps running so the test's own checks still say
    // what the client saw.
    env["TSAN_OPTIONS"] = "halt_on_error=0:second_deadlock_stack=1";
#endif
    return env;
}

std::string tail(const std::string& text, std::size_t lines) {
    std::size_t pos = text.size();
    for (std::size_t n = 0; n <= lines && pos > 0; ++n) {
        const auto nl = text.rfind('\n', pos - 1);
        if (nl == std::string::npos) {
            return text;
        }
        pos = nl;
        if (n == lines) {
            return text.substr(pos + 1);
        }
    }
    return text.substr(pos);
}

// plugin_opt_* pairs from TKA_E2E_PLUGIN_OPTS ("name=value;name=value").
std::vector<std::pair<std::string, std::string>> environment_plugin_opts() {
    std::vector<std::pair<std::string, std::string>> out;
    const char* raw = std::getenv("TKA_E2E_PLUGIN_OPTS");
    if (raw == nullptr) {
        return out;
    }
    std::stringstream in(raw);
    std::string item;
    while (std::getline(in, item, ';')) {
        const auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0) {
            continue;
        }
        out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    return out;
}

}  // namespace

MosquittoBroker::MosquittoBroker(BrokerConfig config) : config_(std::move(config)) {
    ::chmod(dir_.path().c_str(), 0755);
    std::string why;
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
        if (try_start(why)) {
            std::lock_guard lock(registry_mutex);
            registry.insert(this);
            return;
        }
        if (why.find("Address already in use") == std::string::npos) {
            break;
        }
    }
    throw std::runtime_error("mosquitto did not start: " + why);
}

MosquittoBroker::~MosquittoBroker() {
    {
        std::lock_guard lock(registry_mutex);
        registry.erase(this);
    }
    const bool was_running = running();
    int status = 0;
    if (was_running) {
        status = process_->stop();
    }
    const std::string text = log();
    if (std::uncaught_exceptions() > 0) {
        return;
    }
    if (!was_running && !died_reported_) {
        FAIL_CHECK("mosquitto (port " << port_ << ") died during the test; log tail:\n"
                                      << tail(text, 60));
    } else if (has_sanitizer_report(text)) {
        FAIL_CHECK("sanitizer report in the mosquitto log (port " << port_ << ", exit status "
                                                                  << status << "):\n"
                                                                  << tail(text, 80));
    }
}

std::string MosquittoBroker::log() const {
    return process_ ? process_->log() : std::string();
}

std::string MosquittoBroker::log_tail(std::size_t lines) const {
    return tail(log(), lines);
}

bool MosquittoBroker::running() {
    return process_ && process_->running();
}

void MosquittoBroker::kill(int sig) {
    if (process_) {
        died_reported_ = true;
        process_->stop(sig);
    }
}

std::string MosquittoBroker::live_logs(std::size_t lines_each) {
    std::lock_guard lock(registry_mutex);
    std::ostringstream out;
    for (const auto* b : registry) {
        out << "---- mosquitto log, port " << b->port() << " (last " << lines_each
            << " lines) ----\n"
            << b->log_tail(lines_each) << "\n";
    }
    return out.str();
}

void MosquittoBroker::write_config() {
    std::ostringstream conf;
    // Global options first, then the listener and, after it, every security option (see the
    // top of this file): the same layout for both values of per_listener_settings.
    conf << "# generated by tests/support/mosquitto_broker.cpp\n"
         << "per_listener_settings " << (per_listener_settings() ? "true" : "false") << "\n"
         << "persistence false\n"
         << "log_dest stderr\n"  // unbuffered, interleaved with sanitizer reports
         << "log_type all\n"
         << "connection_messages true\n";
    if (::geteuid() == 0 && !config_.plugin_path.empty() &&
        !reachable_by_others(config_.plugin_path)) {
        conf << "user root\n";
    }
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "allow_anonymous false\n";
    if (!config_.password_users.empty()) {
        const std::string file = dir_.file("passwd");
        bool first = true;
        for (const auto& [user, password] : config_.password_users) {
            std::vector<std::string> argv{"mosquitto_passwd", "-b"};
            if (first) {
                argv.push_back("-c");
            }
            argv.insert(argv.end(), {file, user, password});
            const auto r = run(argv);
            if (r.exit_code != 0) {
                throw std::runtime_error("mosquitto_passwd failed: " + r.out + r.err);
            }
            first = false;
        }
        ::chmod(file.c_str(), 0644);
        conf << "password_file " << file << "\n";
    }
    if (!config_.acl_file.empty()) {
        const std::string file = dir_.write("acl", config_.acl_file);
        ::chmod(file.c_str(), 0644);
        conf << "acl_file " << file << "\n";
    }
    if (!config_.plugin_path.empty()) {
        conf << "plugin " << config_.plugin_path << "\n";
        for (const auto& [name, value] : environment_plugin_opts()) {
            conf << "plugin_opt_" << name << " " << value << "\n";
        }
        for (const auto& [name, value] : config_.plugin_opts) {
            conf << "plugin_opt_" << name << " " << value << "\n";
        }
    }
    for (const auto& line : config_.extra_lines) {
        conf << line << "\n";
    }
    config_text_ = conf.str();
    const std::string path = dir_.write("mosquitto.conf", config_text_);
    ::chmod(path.c_str(), 0644);
}

bool MosquittoBroker::try_start(std::string& why) {
    process_.reset();
    port_ = free_port();
    write_config();
    process_ = std::make_unique<Process>(
        std::vector<std::string>{mosquitto_binary(), "-c", dir_.file("mosquitto.conf")},
        dir_.file("mosquitto.log"), broker_environment(dir_));
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_->running()) {
            why = "it exited.\n--- config ---\n" + config_text_ + "--- log ---\n" + log();
            return false;
        }
        // Mosquitto opens its listener only after the plugin's init returned.
        if (wait_for_port(port_, std::chrono::milliseconds(100))) {
            return true;
        }
    }
    why = "port " + std::to_string(port_) + " not open after " +
          std::to_string(kStartTimeout.count()) + " s.\n--- config ---\n" + config_text_ +
          "--- log ---\n" + log();
    return false;
}

}  // namespace tka::test
