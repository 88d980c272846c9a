// Client-supplied text (client ids, usernames) as it may appear in a log line: bounded and
// escaped. Mosquitto cuts every log line at 999 characters and a client id or username may
// be 65535 bytes, so unbounded text would push the rest of a line, its reason included,
// out of the log; control characters and quotes could forge the look of another line or
// field. Callers put the reason first and the client's text last, each through loggable().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tka::plugin {

// At most this many characters of one piece of client text, escapes included.
inline constexpr std::size_t kMaxLoggedClientText = 128;

// `text` with control characters, DEL, '\'', '\\' and bytes that are not part of a
// well-formed UTF-8 sequence written as \xNN (backslash and quote as \\ and \'); cut at a
// character boundary once kMaxLoggedClientText characters are reached, then "…" and the
// original length in bytes: "aaaa…(5000 bytes)".
std::string loggable(std::string_view text, std::size_t max_chars = kMaxLoggedClientText);

}  // namespace tka::plugin
