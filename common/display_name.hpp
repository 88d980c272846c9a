// Names that people read: organization names and admin account names, shown by tokenctl
// and on every page of the operator dashboard. One rule for every writer (tokenctl,
// OrgStore, AdminStore, the admin API), so a name that one of them stores is a name every
// reader can show safely:
//  - 1..max_bytes bytes of well-formed UTF-8 (no overlong forms, no surrogates, nothing
//    above U+10FFFF);
//  - no control characters: C0 (U+0000..U+001F), DEL (U+007F), C1 (U+0080..U+009F, which
//    includes U+0085 NEXT LINE), and the line/paragraph separators U+2028, U+2029;
//  - no bidirectional formatting characters, which make a name display as something it is
//    not: U+061C, U+200E, U+200F, U+202A..U+202E (U+202E RIGHT-TO-LEFT OVERRIDE),
//    U+2066..U+2069;
//  - no leading or trailing white space.
// Escaping for HTML is still the pages' job: a valid name may contain < & " '.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tka {

inline constexpr std::size_t kMaxOrgNameBytes = 128;
inline constexpr std::size_t kMaxAdminNameBytes = 64;

// Why `name` is not an acceptable display name, as a sentence for a person ("the name
// contains a bidirectional override character (U+202E)"), or nullopt when it is. The
// sentence names the offending code point and its byte offset but never quotes the name.
std::optional<std::string> display_name_problem(std::string_view name, std::size_t max_bytes);

}  // namespace tka
