// The TLS settings of a Redis connection (rediss:// and rediss+sentinel:// URLs) and the one
// start-up check that tokend, tokenctl and the plugin all run on them, so the three refuse
// the same mistakes with the same words: a certificate without its key, a file that cannot
// be read, TLS settings next to a URL that does not use TLS.
#pragma once

#include <string>

#include "common/redis_url.hpp"

namespace tka {

struct RedisTlsOptions {
    std::string ca_file;    // PEM CA bundle; empty: the system's default trust store
    std::string cert_file;  // PEM client certificate (mutual TLS); needs key_file
    std::string key_file;   // PEM private key of cert_file
    bool insecure = false;  // no certificate or host name verification (testing only)

    bool any() const {
        return !ca_file.empty() || !cert_file.empty() || !key_file.empty() || insecure;
    }
};

// How each program spells the settings, so messages name what the user typed.
struct RedisTlsOptionNames {
    std::string ca;        // "--redis-tls-ca" or "plugin_opt_redis_tls_ca"
    std::string cert;      // "--redis-tls-cert"
    std::string key;       // "--redis-tls-key"
    std::string insecure;  // "--redis-tls-insecure"
    std::string url;       // "--redis-url"
};

// Returns "" when `tls` fits `endpoint`, else a one-line message: a cert without a key (or
// a key without a cert), an unreadable file, or TLS settings with a URL without TLS.
std::string check_redis_tls(const RedisTlsOptions& tls, const RedisEndpoint& endpoint,
                            const RedisTlsOptionNames& names);

}  // namespace tka
