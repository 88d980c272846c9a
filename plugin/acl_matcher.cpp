// Topic filter matching and ACL decisions (see acl_matcher.hpp). Own implementation of
// the mosquitto_topic_matches_sub rules so the logic is testable without the broker.
#include "plugin/acl_matcher.hpp"

#include <utility>

namespace tka::plugin {

namespace {

// Splits on '/', keeping empty levels ("a//b" has three levels, "/a" two).
std::vector<std::string_view> levels(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = s.find('/', start);
        if (slash == std::string_view::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, slash - start));
        start = slash + 1;
    }
}

bool has_wildcard(std::string_view s) {
    return s.find_first_of("+#") != std::string_view::npos;
}

bool is_wildcard_level(std::string_view level) {
    return level == "+" || level == "#";
}

constexpr std::string_view kSharePrefix = "$share/";

// "$share/<group>/<filter>" -> "<filter>"; other filters unchanged; nullopt if malformed.
std::optional<std::string_view> strip_share(std::string_view filter) {
    if (filter.substr(0, kSharePrefix.size()) != kSharePrefix) {
        return filter;
    }
    const std::string_view rest = filter.substr(kSharePrefix.size());
    const std::size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 >= rest.size()) {
        return std::nullopt;
    }
    const std::string_view group = rest.substr(0, slash);
    if (has_wildcard(group)) {
        return std::nullopt;
    }
    return rest.substr(slash + 1);
}

}  // namespace

bool is_valid_filter(std::string_view filter) {
    if (filter.empty() || filter.find('\0') != std::string_view::npos) {
        return false;
    }
    const auto parts = levels(filter);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string_view level = parts[i];
        if (level == "#") {
            if (i + 1 != parts.size()) {
                return false;
            }
        } else if (level != "+" && has_wildcard(level)) {
            return false;
        }
    }
    return true;
}

bool is_valid_topic(std::string_view topic) {
    return !topic.empty() && !has_wildcard(topic) && topic.find('\0') == std::string_view::npos;
}

bool topic_matches_filter(std::string_view filter, std::string_view topic) {
    if (!is_valid_filter(filter) || !is_valid_topic(topic)) {
        return false;
    }
    const auto f = levels(filter);
    const auto t = levels(topic);
    // Wildcards at the first level never match $SYS-style topics.
    if (!t.front().empty() && t.front().front() == '$' && is_wildcard_level(f.front())) {
        return false;
    }
    std::size_t i = 0;
    for (; i < f.size(); ++i) {
        if (f[i] == "#") {
            return true;  // matches the rest, including the parent level itself
        }
        if (i >= t.size()) {
            return false;
        }
        if (f[i] != "+" && f[i] != t[i]) {
            return false;
        }
    }
    return i == t.size();
}

bool filter_within(std::string_view sub, std::string_view pattern) {
    if (!is_valid_filter(sub) || !is_valid_filter(pattern)) {
        return false;
    }
    const auto s = levels(sub);
    const auto p = levels(pattern);
    // A pattern starting with a wildcard matches no '$' topic; a sub starting with '$'
    // matches only '$' topics (and one starting with a wildcard matches no '$' topic).
    if (!s.front().empty() && s.front().front() == '$' && is_wildcard_level(p.front())) {
        return false;
    }
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
        if (i >= p.size()) {
            return false;
        }
        if (p[i] == "#") {
            return true;
        }
        if (s[i] == "#") {
            return false;  // sub reaches deeper than a non-# pattern level allows
        }
        if (p[i] == "+") {
            continue;  // any single level of sub, '+' included
        }
        if (s[i] == "+" || s[i] != p[i]) {
            return false;
        }
    }
    // sub exhausted: equal depth, or the pattern's only remaining level is '#'
    // ("a/#" also matches "a").
    return i == p.size() || (i + 1 == p.size() && p[i] == "#");
}

std::optional<std::string> expand_pattern(std::string_view pattern, std::string_view org_id,
                                          std::string_view user_id) {
    const auto safe = [](std::string_view v) {
        return !v.empty() && v.find_first_of("+#/") == std::string_view::npos &&
               v.find('\0') == std::string_view::npos;
    };
    std::string out;
    out.reserve(pattern.size() + org_id.size() + user_id.size());
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size() &&
            (pattern[i + 1] == 'o' || pattern[i + 1] == 'u')) {
            const std::string_view value = pattern[i + 1] == 'o' ? org_id : user_id;
            if (!safe(value)) {
                return std::nullopt;
            }
            out.append(value);
            ++i;
        } else {
            out.push_back(pattern[i]);
        }
    }
    return out;
}

AclMatcher::AclMatcher(std::vector<std::string> read_patterns,
                       std::vector<std::string> write_patterns)
    : read_(std::move(read_patterns)), write_(std::move(write_patterns)) {}

bool AclMatcher::any_match(const std::vector<std::string>& patterns, std::string_view org_id,
                           std::string_view user_id, std::string_view topic, bool as_filter) const {
    for (const std::string& pattern : patterns) {
        const auto expanded = expand_pattern(pattern, org_id, user_id);
        if (!expanded) {
            continue;
        }
        if (as_filter ? filter_within(topic, *expanded) : topic_matches_filter(*expanded, topic)) {
            return true;
        }
    }
    return false;
}

AclResult AclMatcher::check(std::string_view org_id, std::string_view user_id,
                            std::string_view topic, Access access) const {
    if (!active()) {
        return AclResult::defer;
    }
    switch (access) {
        case Access::write:
            if (write_.empty()) {
                return AclResult::allow;
            }
            return any_match(write_, org_id, user_id, topic, false) ? AclResult::allow
                                                                    : AclResult::deny;
        case Access::read:
            if (read_.empty()) {
                return AclResult::allow;
            }
            return any_match(read_, org_id, user_id, topic, false) ? AclResult::allow
                                                                   : AclResult::deny;
        case Access::subscribe: {
            if (read_.empty()) {
                return AclResult::allow;
            }
            const auto filter = strip_share(topic);
            if (!filter) {
                return AclResult::deny;
            }
            return any_match(read_, org_id, user_id, *filter, true) ? AclResult::allow
                                                                    : AclResult::deny;
        }
        case Access::unsubscribe:
            return AclResult::allow;  // harmless: it can only stop deliveries
    }
    return AclResult::deny;
}

}  // namespace tka::plugin
