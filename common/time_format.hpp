// Time as the API shows it: RFC 3339 UTC with a 'Z', whole seconds. Every function takes
// the instant as an argument (no hidden clock reads) so tests can pin it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tka {

using UnixSeconds = std::int64_t;

UnixSeconds unix_now();

// 1774620000 -> "2026-03-27T14:00:00Z"
std::string format_rfc3339(UnixSeconds t);
// The inverse; nullopt for anything but "YYYY-MM-DDTHH:MM:SSZ".
std::optional<UnixSeconds> parse_rfc3339(std::string_view s);

// expires_at minus 10 % of the TTL (whole seconds, rounded down): 3600 s -> 6 min before.
UnixSeconds refresh_recommended_at(UnixSeconds expires_at, std::int64_t ttl_seconds);

}  // namespace tka
