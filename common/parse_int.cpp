// parse_int (see parse_int.hpp): std::from_chars over the whole text, then the range.
#include "common/parse_int.hpp"

#include <charconv>

namespace tka {

std::optional<std::int64_t> parse_int(std::string_view text, std::int64_t min, std::int64_t max) {
    std::int64_t value = 0;
    const char* last = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), last, value);
    if (ec != std::errc() || ptr != last || value < min || value > max) {
        return std::nullopt;
    }
    return value;
}

}  // namespace tka
