// The start-up check of RedisTlsOptions (redis_tls_options.hpp). Files are opened once here
// so an unreadable CA, certificate or key stops the program at start with its name, rather
// than failing every later connection attempt.
#include "common/redis_tls_options.hpp"

#include <fstream>

namespace tka {
namespace {

bool readable(const std::string& path) {
    std::ifstream in(path);
    return in.good();
}

std::string unreadable(const std::string& option, const std::string& path) {
    std::string out = "cannot read ";
    out.append(option).append(" file '").append(path).append("'");
    return out;
}

}  // namespace

std::string check_redis_tls(const RedisTlsOptions& tls, const RedisEndpoint& endpoint,
                            const RedisTlsOptionNames& names) {
    if (!tls.any()) {
        return {};
    }
    if (!endpoint.tls) {
        std::string out = names.ca;
        out.append(", ").append(names.cert).append(", ").append(names.key).append(" and ");
        out.append(names.insecure).append(" need a TLS ").append(names.url);
        out.append(" (rediss://... or rediss+sentinel://...)");
        return out;
    }
    if (tls.cert_file.empty() != tls.key_file.empty()) {
        std::string out = names.cert;
        out.append(" and ").append(names.key).append(" must be given together");
        return out;
    }
    if (!tls.ca_file.empty() && !readable(tls.ca_file)) {
        return unreadable(names.ca, tls.ca_file);
    }
    if (!tls.cert_file.empty() && !readable(tls.cert_file)) {
        return unreadable(names.cert, tls.cert_file);
    }
    if (!tls.key_file.empty() && !readable(tls.key_file)) {
        return unreadable(names.key, tls.key_file);
    }
    return {};
}

}  // namespace tka
