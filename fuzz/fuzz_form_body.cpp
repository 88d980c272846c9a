// Fuzz target for the dashboard's form and query-string parser (tokend/form_body.hpp),
// which reads every form an operator's browser POSTs. Beyond "no crash, no undefined
// behaviour", it checks against the documented rules:
//   - a refusal is one of two fixed sentences, so it never quotes the input;
//   - an accepted body has no more fields than it has non-empty '&'-separated pairs, and
//     re-encoding its fields (form_encode) parses back to the same fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "tokend/form_body.hpp"

namespace {

constexpr std::string_view kBadEscape =
    "the form holds a '%' that is not followed by two hex digits";
constexpr std::string_view kRepeated = "the form names a field more than once";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto parsed = tka::tokend::parse_form(input);
    if (!parsed.fields) {
        // One of the fixed sentences: nothing of the input is ever quoted.
        TKA_FUZZ_CHECK(parsed.error == kBadEscape || parsed.error == kRepeated);
        return 0;
    }
    std::size_t pairs = 0;
    std::string again;
    for (const auto& [name, value] : *parsed.fields) {
        again.append(tka::tokend::form_encode(name)).append(1, '=');
        again.append(tka::tokend::form_encode(value)).append(1, '&');
        ++pairs;
    }
    TKA_FUZZ_CHECK(pairs <= input.size());
    const auto reparsed = tka::tokend::parse_form(again);
    TKA_FUZZ_CHECK(reparsed.fields.has_value());
    TKA_FUZZ_CHECK(*reparsed.fields == *parsed.fields);
    return 0;
}
