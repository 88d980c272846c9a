// Fuzz target for topic isolation: the ACL pattern check of the plugin options
// (plugin/options.hpp, check_acl_pattern) and the matcher (plugin/acl_matcher.hpp: its
// filter functions and AclMatcher's decisions for given patterns). The input is text, one
// item a line: the organization id, the user id, then lines "r <pattern>" (a read pattern),
// "w <pattern>" (a write pattern) and any other line, a topic or subscription filter to
// decide. Patterns that check_acl_pattern refuses are dropped, as the broker would refuse to
// start with them. Beyond "no crash, no leak, no undefined behaviour", every answer is
// compared with an oracle written here from the MQTT rules (docs/plugin.md), independently
// of the matcher's code:
//   - check_acl_pattern accepts only valid filters whose '%' escapes are %o and %u, and
//     accepts every such pattern of reasonable length;
//   - is_valid_filter, is_valid_topic, topic_matches_filter and expand_pattern agree with
//     the oracle ('+' one level, '#' the rest and the parent, no wildcard first level for '$'
//     topics; %o/%u replaced only by values without '+', '#', '/' or NUL);
//   - filter_within(sub, pattern) holds only when the pattern matches every topic of the
//     sub (the oracle tries the sub's most general topics: each '+' and '#' replaced by
//     levels that no pattern level names), and holds whenever that is so, but for one case
//     the matcher refuses although the two denote the same topics: sub "#", pattern "+/#"
//     (refusing is the safe side; see known_gap);
//   - a matcher with read and write patterns allows a publish / a delivery exactly when
//     some write / read pattern, with this organization and user filled in, matches the
//     topic, and a subscription when the filter (behind "$share/<group>/") lies within one
//     read pattern (known_gap aside); it never allows anything outside what they denote.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "plugin/acl_matcher.hpp"
#include "plugin/options.hpp"

namespace {

namespace acl = tka::plugin;
using acl::Access;
using acl::AclResult;

// Pairs of lines compared with each other: bounds the work per input.
constexpr std::size_t kMaxPairLines = 6;
// Shortest limit on a pattern's length that an acceptable configuration check can have.
constexpr std::size_t kShortPattern = 256;

// --- Oracle --------------------------------------------------------------------------------

std::vector<std::string_view> split_levels(std::string_view s) {
    std::vector<std::string_view> out;
    while (true) {
        const std::size_t slash = s.find('/');
        out.push_back(s.substr(0, slash));
        if (slash == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(slash + 1);
    }
}

bool has_nul(std::string_view s) {
    return s.find('\0') != std::string_view::npos;
}

bool oracle_valid_topic(std::string_view t) {
    return !t.empty() && !has_nul(t) && t.find_first_of("+#") == std::string_view::npos;
}

bool oracle_valid_filter(std::string_view f) {
    if (f.empty() || has_nul(f)) {
        return false;
    }
    const auto levels = split_levels(f);
    for (std::size_t i = 0; i < levels.size(); ++i) {
        const bool wildcard = levels[i] == "+" || (levels[i] == "#" && i + 1 == levels.size());
        if (!wildcard && levels[i].find_first_of("+#") != std::string_view::npos) {
            return false;
        }
    }
    return true;
}

// A valid filter after %o and %u are replaced by plain values, and no other '%' escapes.
bool oracle_valid_pattern(std::string_view p) {
    std::string plain;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '%') {
            if (i + 1 == p.size() || (p[i + 1] != 'o' && p[i + 1] != 'u')) {
                return false;
            }
            plain.push_back('x');
            ++i;
        } else {
            plain.push_back(p[i]);
        }
    }
    return oracle_valid_filter(plain);
}

bool oracle_match(std::string_view filter, std::string_view topic) {
    if (!oracle_valid_filter(filter) || !oracle_valid_topic(topic)) {
        return false;
    }
    const auto f = split_levels(filter);
    const auto t = split_levels(topic);
    if (topic.front() == '$' && (f[0] == "+" || f[0] == "#")) {
        return false;
    }
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "#") {
            return true;  // the rest, any depth, the parent level included
        }
        if (i == t.size() || (f[i] != "+" && f[i] != t[i])) {
            return false;
        }
    }
    return f.size() == t.size();
}

// The sub's most general topics: each '+' a level no pattern names, '#' its parent (when
// that is a topic), one more level, or two. The pattern holds the sub exactly when it
// matches all of them (a pattern without '#' has one depth, so it cannot take both).
bool oracle_within(std::string_view sub, std::string_view pattern) {
    if (!oracle_valid_filter(sub) || !oracle_valid_filter(pattern)) {
        return false;
    }
    std::size_t longest = 0;
    for (const auto level : split_levels(pattern)) {
        longest = std::max(longest, level.size());
    }
    const std::string fresh = "~" + std::string(longest, 'z');  // no pattern level, no '$'
    std::string base;
    std::vector<std::string> topics;
    const auto levels = split_levels(sub);
    for (std::size_t i = 0; i < levels.size(); ++i) {
        const std::string sep = i == 0 ? "" : "/";
        if (levels[i] == "#") {
            if (!base.empty()) {
                topics.push_back(base);
            }
            topics.push_back(base + sep + fresh);
            topics.push_back(base + sep + fresh + "/" + fresh);
            break;
        }
        base += sep + std::string(levels[i] == "+" ? std::string_view(fresh) : levels[i]);
        if (i + 1 == levels.size()) {
            topics.push_back(base);
        }
    }
    return std::all_of(topics.begin(), topics.end(),
                       [&](const std::string& t) { return oracle_match(pattern, t); });
}

// Where the matcher is stricter than the rule: "#" is not taken to lie within "+/#", which
// matches the same topics (every one with a first level, none starting with '$').
bool known_gap(std::string_view sub, std::string_view pattern) {
    return sub == "#" && pattern == "+/#";
}

std::optional<std::string> oracle_expand(std::string_view pattern, std::string_view org,
                                         std::string_view user) {
    const auto plain = [](std::string_view v) {
        return !v.empty() && v.find_first_of(std::string_view("+#/\0", 4)) == std::string::npos;
    };
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const bool escape = pattern[i] == '%' && i + 1 < pattern.size() &&
                            (pattern[i + 1] == 'o' || pattern[i + 1] == 'u');
        if (!escape) {
            out.push_back(pattern[i]);
            continue;
        }
        const std::string_view value = pattern[i + 1] == 'o' ? org : user;
        if (!plain(value)) {
            return std::nullopt;
        }
        out.append(value);
        ++i;
    }
    return out;
}

// "$share/<group>/<filter>": the filter; a malformed share: nothing (denied).
std::optional<std::string_view> oracle_unshare(std::string_view filter) {
    constexpr std::string_view kShare = "$share/";
    if (filter.substr(0, kShare.size()) != kShare) {
        return filter;
    }
    filter.remove_prefix(kShare.size());
    const std::size_t slash = filter.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == filter.size() ||
        filter.substr(0, slash).find_first_of("+#") != std::string_view::npos) {
        return std::nullopt;
    }
    return filter.substr(slash + 1);
}

enum class As { topic, filter, filter_without_gap };

// Whether some pattern, filled in for (org, user), matches the topic / holds the filter
// (filter_without_gap: other than by a known_gap).
bool oracle_allows(const std::vector<std::string>& patterns, std::string_view org,
                   std::string_view user, std::string_view topic, As as) {
    for (const std::string& pattern : patterns) {
        const auto expanded = oracle_expand(pattern, org, user);
        if (!expanded) {
            continue;
        }
        if (as == As::topic ? oracle_match(*expanded, topic)
                            : oracle_within(topic, *expanded) &&
                                  (as == As::filter || !known_gap(topic, *expanded))) {
            return true;
        }
    }
    return false;
}

// --- Properties -------------------------------------------------------------------------

void check_line(std::string_view s, std::string_view org, std::string_view user) {
    const bool accepted = acl::check_acl_pattern(s).empty();
    const bool valid = oracle_valid_pattern(s);
    TKA_FUZZ_CHECK(!accepted || valid);
    TKA_FUZZ_CHECK(accepted || !valid || s.size() > kShortPattern);

    TKA_FUZZ_CHECK(acl::is_valid_filter(s) == oracle_valid_filter(s));
    TKA_FUZZ_CHECK(acl::is_valid_topic(s) == oracle_valid_topic(s));
    TKA_FUZZ_CHECK(acl::expand_pattern(s, org, user) == oracle_expand(s, org, user));
}

void check_pair(std::string_view a, std::string_view b) {
    TKA_FUZZ_CHECK(acl::topic_matches_filter(a, b) == oracle_match(a, b));
    const bool within = acl::filter_within(a, b);
    TKA_FUZZ_CHECK(!within || oracle_within(a, b));
    TKA_FUZZ_CHECK(within || !oracle_within(a, b) || known_gap(a, b));
}

void check_decisions(const acl::AclMatcher& matcher, const std::vector<std::string>& read,
                     const std::vector<std::string>& write, std::string_view org,
                     std::string_view user, std::string_view topic) {
    const auto allowed = [](AclResult r) {
        TKA_FUZZ_CHECK(r == AclResult::allow || r == AclResult::deny);
        return r == AclResult::allow;
    };
    TKA_FUZZ_CHECK(allowed(matcher.check(org, user, topic, Access::write)) ==
                   oracle_allows(write, org, user, topic, As::topic));
    TKA_FUZZ_CHECK(allowed(matcher.check(org, user, topic, Access::read)) ==
                   oracle_allows(read, org, user, topic, As::topic));
    const auto filter = oracle_unshare(topic);
    const bool subscribe = allowed(matcher.check(org, user, topic, Access::subscribe));
    TKA_FUZZ_CHECK(!subscribe || (filter && oracle_allows(read, org, user, *filter, As::filter)));
    TKA_FUZZ_CHECK(subscribe || !filter ||
                   !oracle_allows(read, org, user, *filter, As::filter_without_gap));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> lines;
    for (std::size_t start = 0; start <= input.size();) {
        const std::size_t newline = input.find('\n', start);
        lines.push_back(input.substr(start, newline - start));
        start = newline == std::string_view::npos ? input.size() + 1 : newline + 1;
    }
    const std::string_view org = lines[0];
    const std::string_view user = lines.size() > 1 ? lines[1] : std::string_view{};

    std::vector<std::string> read;
    std::vector<std::string> write;
    std::vector<std::string_view> topics;
    for (std::size_t i = 2; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        const std::string_view body = line.substr(std::min<std::size_t>(2, line.size()));
        const bool pattern_line = line.starts_with("r ") || line.starts_with("w ");
        check_line(pattern_line ? body : line, org, user);
        if (!pattern_line) {
            topics.push_back(line);
        } else if (acl::check_acl_pattern(body).empty()) {
            (line[0] == 'r' ? read : write).emplace_back(body);
        }
    }

    // Every line against every other (the bodies of pattern lines included).
    std::vector<std::string_view> items;
    for (std::size_t i = 2; i < lines.size() && items.size() < kMaxPairLines; ++i) {
        const bool pattern_line = lines[i].starts_with("r ") || lines[i].starts_with("w ");
        items.push_back(pattern_line ? lines[i].substr(2) : lines[i]);
    }
    for (const auto a : items) {
        for (const auto b : items) {
            check_pair(a, b);
        }
    }

    if (!read.empty() && !write.empty()) {
        const acl::AclMatcher matcher(read, write);
        for (const auto topic : topics) {
            check_decisions(matcher, read, write, org, user, topic);
        }
    }
    return 0;
}
