// What one tokenctl invocation asks for, after the command line has been parsed and every
// argument validated (command_line.cpp). The command implementations receive only this, so
// nothing unvalidated ever reaches Redis.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/redis_tls_options.hpp"

namespace tka::tokenctl {

enum class Command {
    org_create,
    org_set,
    org_show,
    org_list,
    key_create,
    key_import,
    key_list,
    key_revoke,
    token_list,
    token_revoke,
    migrate,
    admin_create,
    admin_list,
    admin_delete,
    admin_reset_password,
};

struct Request {
    Command command = Command::org_list;
    std::string redis_url;             // as given; parsed by the caller
    RedisTlsOptions redis_tls;         // --redis-tls-*; checked against the URL by the caller
    bool json = false;                 // --json: machine-readable output
    std::string org_id;                // validated org_ id (all but org create/list)
    std::string name;                  // org create --name; admin create --name, admin NAME
    std::optional<std::int64_t> ttl;   // --ttl, seconds, within 1..30 days
    std::optional<bool> token_auth;    // --token-auth on|off
    std::string key_id;                // key revoke
    std::string legacy_key;            // key import: the cs_ key (stdin already read)
    std::string token_id;              // token revoke
    std::optional<std::string> email;  // token list --email, normalised

    // --redis-wait-replicas / --redis-wait-ms (common/replica_wait.hpp): after each change,
    // WAIT for this many replicas (0: off), for at most wait_timeout.
    int wait_replicas = 0;
    std::chrono::milliseconds wait_timeout{1000};
};

// A bad command line: wrong flags, malformed ids, values out of range. Exit status 2.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace tka::tokenctl
