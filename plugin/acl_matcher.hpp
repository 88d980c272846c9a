// Topic isolation for token connections (plugin_opt_acl_read / plugin_opt_acl_write).
//
// A pattern is an MQTT topic filter in which %o stands for the connection's organization
// id and %u for its user id, e.g. "orgs/%o/#" or "orgs/%o/users/%u/+". A substituted value
// containing '+', '#' or '/' (impossible for valid ids, refused anyway) disables the
// pattern, so an identifier can never widen a filter. Matching follows
// mosquitto_topic_matches_sub: '+' one level, '#' the rest including the parent level,
// and a leading wildcard does not match topics beginning with '$'.
//
// Decisions: publishing needs a write pattern matching the topic; receiving a message
// needs a read pattern matching it; subscribing needs the whole filter to lie within one
// read pattern (every topic it can match is matched by the pattern). A direction without
// patterns is not restricted. Answers come from memory only: this runs for every message.
// By default (options.hpp, plugin_opt_acl_default org) both directions hold orgs/%o/#, so
// a token client reaches only its organization's namespace: `#`, `orgs/+/x` or `$SYS/#`
// are refused at SUBSCRIBE, and nothing outside the namespace is delivered (READ) or
// accepted (WRITE); no pattern starting with a wildcard matches a '$' topic.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tka::plugin {

enum class Access { read, write, subscribe, unsubscribe };

enum class AclResult { defer, allow, deny };

// `topic` has no wildcards; `filter` may.
bool topic_matches_filter(std::string_view filter, std::string_view topic);
// Whether every topic matched by `sub` is matched by `pattern` (both filters).
bool filter_within(std::string_view sub, std::string_view pattern);
// A syntactically valid topic filter (wildcards as whole levels, '#' last, not empty).
bool is_valid_filter(std::string_view filter);
// A valid topic name to publish to (no wildcards, not empty).
bool is_valid_topic(std::string_view topic);
// The pattern with %o/%u replaced, or nullopt when a value is empty or contains + # /.
std::optional<std::string> expand_pattern(std::string_view pattern, std::string_view org_id,
                                          std::string_view user_id);

class AclMatcher {
  public:
    AclMatcher() = default;
    AclMatcher(std::vector<std::string> read_patterns, std::vector<std::string> write_patterns);

    // False without any pattern: the plugin then leaves ACL checks to others.
    bool active() const { return !read_.empty() || !write_.empty(); }

    // Decision for a token connection of (org_id, user_id). For subscribe/unsubscribe
    // `topic` is the filter as sent (a "$share/<group>/" prefix is looked through).
    AclResult check(std::string_view org_id, std::string_view user_id, std::string_view topic,
                    Access access) const;

  private:
    bool any_match(const std::vector<std::string>& patterns, std::string_view org_id,
                   std::string_view user_id, std::string_view topic, bool as_filter) const;

    std::vector<std::string> read_;
    std::vector<std::string> write_;
};

}  // namespace tka::plugin
