// application/x-www-form-urlencoded, as HTML forms POST it and as query strings carry it
// (the operator dashboard's forms and its ?email= / ?done= parameters). Parsed by hand
// rather than by a library so that every rule is visible and strict: '&' separates pairs,
// the first '=' separates a name from its value (no '=': an empty value), '+' is a space,
// %XX is a byte; a '%' not followed by two hex digits, or a name given twice, makes the
// whole body invalid (400), so that two layers can never disagree about which value
// counts. Empty pairs ("a=1&&b=2") are skipped. Values are bytes: whether they are UTF-8
// is the caller's business (display_name_problem() checks names).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tka::tokend {

using FormFields = std::map<std::string, std::string, std::less<>>;

struct FormParse {
    std::optional<FormFields> fields;  // nullopt: invalid
    std::string error;                 // why, a sentence that quotes nothing from the body
};

FormParse parse_form(std::string_view body);

// Whether a Content-Type names application/x-www-form-urlencoded (parameters allowed).
bool is_form_content_type(std::string_view content_type);

// The value of `name`, or "" when absent.
std::string form_value(const FormFields& fields, std::string_view name);

// A value for a query string: unreserved characters as is, everything else %XX.
std::string form_encode(std::string_view value);

}  // namespace tka::tokend
