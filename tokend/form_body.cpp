// The form and query-string parser (see form_body.hpp).
#include "tokend/form_body.hpp"
#include "common/crypto.hpp"

namespace tka::tokend {

namespace {

// Percent-decoding with '+' as space; nullopt for a broken escape.
std::optional<std::string> decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= s.size()) {
                return std::nullopt;
            }
            const int hi = crypto::hex_digit_value(s[i + 1]);
            const int lo = crypto::hex_digit_value(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

FormParse parse_form(std::string_view body) {
    FormParse result;
    FormFields fields;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        auto name = decode(pair.substr(0, eq));
        auto value =
            decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
        if (!name || !value) {
            result.error = "the form holds a '%' that is not followed by two hex digits";
            return result;
        }
        if (!fields.emplace(std::move(*name), std::move(*value)).second) {
            result.error = "the form names a field more than once";
            return result;
        }
    }
    result.fields = std::move(fields);
    return result;
}

bool is_form_content_type(std::string_view content_type) {
    constexpr std::string_view kForm = "application/x-www-form-urlencoded";
    const std::string_view media = content_type.substr(0, content_type.find(';'));
    std::string_view trimmed = media;
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) {
        trimmed.remove_suffix(1);
    }
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) {
        trimmed.remove_prefix(1);
    }
    if (trimmed.size() != kForm.size()) {
        return false;
    }
    for (std::size_t i = 0; i < kForm.size(); ++i) {
        char c = trimmed[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (c != kForm[i]) {
            return false;
        }
    }
    return true;
}

std::string form_value(const FormFields& fields, std::string_view name) {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
}

std::string form_encode(std::string_view value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
    return out;
}

}  // namespace tka::tokend
