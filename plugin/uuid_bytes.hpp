// UUIDs as 16 bytes for compact in-memory tables (the connection tracker): a strict parser
// that accepts only the canonical lowercase 36-char form, so that formatting the bytes
// again gives back exactly the same string (an uppercase or otherwise odd id is not a
// UUID here, and callers keep it as text), and the matching formatter.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tka::plugin {

using UuidBytes = std::array<std::uint8_t, 16>;

// 16 bytes of `text` when it is a canonical lowercase UUID
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, [0-9a-f]); nullopt otherwise.
std::optional<UuidBytes> parse_lowercase_uuid(std::string_view text);

// The canonical lowercase form (36 chars) of 16 bytes: parse_lowercase_uuid's inverse.
std::string format_lowercase_uuid(const UuidBytes& bytes);

}  // namespace tka::plugin
