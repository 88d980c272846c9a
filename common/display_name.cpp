// The one rule for names that people read (see display_name.hpp). A small hand-written
// UTF-8 decoder walks the name once: it refuses malformed byte sequences (overlong forms,
// surrogates, code points above U+10FFFF, truncated sequences) and then each decoded code
// point that could hide or disguise what the name says. The sentences name the code point
// and its byte offset, never the name itself, so they are safe to log and to show.
#include "common/display_name.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace tka {
namespace {

// One step of the decoder: the code point starting at some offset and its length in bytes,
// or the reason the bytes there are not UTF-8.
struct Decoded {
    char32_t code_point = 0;
    std::size_t length = 0;
    const char* malformed = nullptr;  // set when the bytes are not well-formed UTF-8
};

bool is_continuation(unsigned char b) {
    return (b & 0xC0) == 0x80;
}

Decoded decode_at(std::string_view s, std::size_t at) {
    const auto lead = static_cast<unsigned char>(s[at]);
    if (lead < 0x80) {
        return {lead, 1, nullptr};
    }
    // The lead byte says how long the sequence is, carries the top bits of the code point,
    // and implies the smallest code point that needs that many bytes (below it: overlong).
    struct Form {
        unsigned char mask, value, payload;
        std::size_t length;
        char32_t min;
    };
    static constexpr Form kForms[] = {
        {0xE0, 0xC0, 0x1F, 2, 0x80}, {0xF0, 0xE0, 0x0F, 3, 0x800}, {0xF8, 0xF0, 0x07, 4, 0x10000}};
    const Form* form = nullptr;
    for (const Form& f : kForms) {
        if ((lead & f.mask) == f.value) {
            form = &f;
        }
    }
    if (form == nullptr) {
        return {0, 1,
                is_continuation(lead) ? "a continuation byte without a lead byte"
                                      : "a byte that never occurs in UTF-8"};
    }
    const std::size_t length = form->length;
    const char32_t min = form->min;
    char32_t cp = lead & form->payload;
    for (std::size_t i = 1; i < length; ++i) {
        if (at + i >= s.size() || !is_continuation(static_cast<unsigned char>(s[at + i]))) {
            return {0, 1, "a truncated multi-byte sequence"};
        }
        cp = (cp << 6) | (static_cast<unsigned char>(s[at + i]) & 0x3F);
    }
    if (cp < min) {
        return {0, length, "an overlong encoding"};
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
        return {0, length, "an encoded surrogate"};
    }
    if (cp > 0x10FFFF) {
        return {0, length, "a code point above U+10FFFF"};
    }
    return {cp, length, nullptr};
}

// What kind of character `cp` is, when it has no place in a display name.
const char* forbidden_kind(char32_t cp) {
    if (cp <= 0x1F || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
        return "a control character";
    }
    if (cp == 0x2028 || cp == 0x2029) {
        return "a line or paragraph separator";
    }
    if (cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069)) {
        return "a bidirectional formatting character";
    }
    return nullptr;
}

// Unicode White_Space characters that are not already refused as controls or separators.
bool is_white_space(char32_t cp) {
    return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

std::optional<std::string> display_name_problem(std::string_view name, std::size_t max_bytes) {
    if (name.empty()) {
        return std::string("the name is empty");
    }
    if (name.size() > max_bytes) {
        return fmt::format("the name is {} bytes long, longer than the limit of {} bytes",
                           name.size(), max_bytes);
    }
    char32_t first = 0;
    char32_t last = 0;
    for (std::size_t at = 0; at < name.size();) {
        const Decoded d = decode_at(name, at);
        if (d.malformed != nullptr) {
            return fmt::format("the name is not valid UTF-8: {} at byte offset {}", d.malformed,
                               at);
        }
        if (const char* kind = forbidden_kind(d.code_point)) {
            return fmt::format("the name contains {} (U+{:04X}) at byte offset {}", kind,
                               static_cast<std::uint32_t>(d.code_point), at);
        }
        if (at == 0) {
            first = d.code_point;
        }
        last = d.code_point;
        at += d.length;
    }
    if (is_white_space(first)) {
        return std::string("the name begins with white space");
    }
    if (is_white_space(last)) {
        return std::string("the name ends with white space");
    }
    return std::nullopt;
}

}  // namespace tka
