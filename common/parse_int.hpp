// The one parser for integer option values (command lines, environment variables, plugin
// options): the whole text must be a decimal integer within [min, max]. No sign games, no
// trailing garbage, no silent wrap-around, so "1e3", "10 " or "99999999999999999999" are
// errors rather than some other number.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tka {

// The value, or nullopt when `text` is not a decimal integer within [min, max].
std::optional<std::int64_t> parse_int(std::string_view text, std::int64_t min, std::int64_t max);

}  // namespace tka
