// Bounding and escaping client text for log lines (see log_text.hpp).
#include "plugin/log_text.hpp"

namespace tka::plugin {

namespace {

// Length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629: no overlong
// forms, no surrogates, at most U+10FFFF), or 0 when there is none.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t n = 0;
    unsigned char min2 = 0x80;
    unsigned char max2 = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
        n = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        n = 3;
        min2 = lead == 0xe0 ? 0xa0 : 0x80;
        max2 = lead == 0xed ? 0x9f : 0xbf;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        n = 4;
        min2 = lead == 0xf0 ? 0x90 : 0x80;
        max2 = lead == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (i + n > text.size() || byte(i + 1) < min2 || byte(i + 1) > max2) {
        return 0;
    }
    for (std::size_t k = 2; k < n; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) {
            return 0;
        }
    }
    return n;
}

void append_hex_escape(std::string& out, unsigned char c) {
    constexpr char kHex[] = "0123456789abcdef";
    out.append("\\x");
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0f]);
}

}  // namespace

std::string loggable(std::string_view text, std::size_t max_chars) {
    std::string out;
    out.reserve(text.size() < max_chars ? text.size() : max_chars);
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::string piece;
        std::size_t consumed = 1;
        if (c == '\\' || c == '\'') {
            piece.push_back('\\');
            piece.push_back(static_cast<char>(c));
        } else if (c < 0x20 || c == 0x7f) {
            append_hex_escape(piece, c);
        } else if (c < 0x80) {
            piece.push_back(static_cast<char>(c));
        } else if (const std::size_t n = utf8_sequence(text, i); n > 0) {
            piece.assign(text.substr(i, n));
            consumed = n;
        } else {
            append_hex_escape(piece, c);
        }
        // A multi-byte character counts as one character, an escape as its length.
        const std::size_t width = consumed > 1 ? 1 : piece.size();
        if (max_chars < width) {
            break;
        }
        max_chars -= width;
        out.append(piece);
        i += consumed;
    }
    if (i < text.size()) {
        out.append("\u2026(");
        out.append(std::to_string(text.size()));
        out.append(" bytes)");
    }
    return out;
}

}  // namespace tka::plugin
