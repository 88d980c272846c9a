// Canonical lowercase UUID text <-> 16 bytes (see uuid_bytes.hpp).
#include "plugin/uuid_bytes.hpp"

namespace tka::plugin {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

bool is_dash_position(std::size_t i) {
    return i == 8 || i == 13 || i == 18 || i == 23;
}

int nibble(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

}  // namespace

std::optional<UuidBytes> parse_lowercase_uuid(std::string_view text) {
    if (text.size() != 36) {
        return std::nullopt;
    }
    UuidBytes out{};
    std::size_t byte = 0;
    bool high = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (is_dash_position(i)) {
            if (text[i] != '-') {
                return std::nullopt;
            }
            continue;
        }
        const int v = nibble(text[i]);
        if (v < 0) {
            return std::nullopt;
        }
        if (high) {
            out[byte] = static_cast<std::uint8_t>(v << 4);
        } else {
            out[byte++] |= static_cast<std::uint8_t>(v);
        }
        high = !high;
    }
    return out;
}

std::string format_lowercase_uuid(const UuidBytes& bytes) {
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out.push_back('-');
        }
        out.push_back(kDigits[bytes[i] >> 4]);
        out.push_back(kDigits[bytes[i] & 0xf]);
    }
    return out;
}

}  // namespace tka::plugin
