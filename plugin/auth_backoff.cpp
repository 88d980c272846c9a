// Failed-auth backoff per client address and username (see auth_backoff.hpp).
#include "plugin/auth_backoff.hpp"

#include "common/ip_address.hpp"

namespace tka::plugin {

namespace {

FailureThrottle::Options table_options(const AuthBackoff::Options& o) {
    FailureThrottle::Options t;
    t.threshold = o.enabled ? o.threshold : 0;  // 0: off
    t.half_life = AuthBackoff::kHalfLife;
    t.penalty = o.first;
    t.max_penalty = o.max;
    t.max_keys = o.max_tracked;
    t.success_ends_block = true;
    return t;
}

}  // namespace

bool counts_for_backoff(Refusal reason) {
    switch (reason) {
        case Refusal::malformed_username:
        case Refusal::malformed_password:
        case Refusal::unknown_token:
        case Refusal::expired:
        case Refusal::revoked:
        case Refusal::token_auth_off:
        case Refusal::user_mismatch:
        case Refusal::replaced:
        case Refusal::unknown_org:
            return true;
        case Refusal::redis_unavailable:
        case Refusal::no_tick_events:
        case Refusal::busy:
        case Refusal::backoff:
        // Not a broker's refusal of a CONNECT (tokend and tokenctl only).
        case Refusal::bad_request:
        case Refusal::bad_secret_key:
        case Refusal::wrong_password:
        case Refusal::not_found:
        case Refusal::conflict:
            return false;
    }
    return false;
}

AuthBackoff::Options AuthBackoff::options_from(const PluginConfig& config) {
    Options o;
    o.enabled = config.backoff;
    o.threshold = config.backoff_threshold;
    o.first = config.backoff_first;
    o.max = config.backoff_max;
    o.max_tracked = config.backoff_max_tracked;
    return o;
}

AuthBackoff::AuthBackoff(Options options)
    : options_(options), addresses_(table_options(options)), usernames_(table_options(options)) {}

AuthBackoff::Subject AuthBackoff::subject(std::optional<std::string_view> client_address,
                                          std::optional<std::string_view> username) const {
    Subject s;
    if (!enabled()) {
        return s;
    }
    if (client_address && !client_address->empty()) {
        s.address = client_key(*client_address);
    }
    if (username) {
        s.username = *username;
    }
    return s;
}

bool AuthBackoff::in_backoff(const Subject& subject, Clock::time_point now) const {
    return (!subject.address.empty() && !addresses_.check(subject.address, now).allowed) ||
           (!subject.username.empty() && !usernames_.check(subject.username, now).allowed);
}

AuthBackoff::Outcome AuthBackoff::failure(const Subject& subject, Clock::time_point now) {
    Outcome out;
    if (!subject.address.empty()) {
        out.address = addresses_.failure(subject.address, now);
    }
    if (!subject.username.empty()) {
        out.username = usernames_.failure(subject.username, now);
    }
    return out;
}

void AuthBackoff::success(const Subject& subject, Clock::time_point now) {
    if (!subject.address.empty()) {
        addresses_.success(subject.address, now);
    }
    if (!subject.username.empty()) {
        usernames_.success(subject.username, now);
    }
}

std::string printable(std::string_view text) {
    constexpr std::size_t kMax = 64;
    std::string out(text.substr(0, kMax));
    for (char& c : out) {
        if (c < 0x20 || c > 0x7e) {
            c = '?';
        }
    }
    if (text.size() > kMax) {
        out += "...";
    }
    return out;
}

}  // namespace tka::plugin
