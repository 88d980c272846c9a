// numbered("t", 7) == "t7": numbered names for test data.
// Built by appending on purpose: GCC 12 at -O3 reports a false -Wstringop-overflow inside
// libstdc++ for `"t" + std::to_string(n)` (operator+(const char*, string&&) inlines an
// insert at position 0 whose length it cannot bound); an append has no such path.
#pragma once

#include <string>
#include <string_view>

namespace tka::test {

inline std::string numbered(std::string_view prefix, long long n) {
    std::string s(prefix);
    s += std::to_string(n);
    return s;
}

}  // namespace tka::test
