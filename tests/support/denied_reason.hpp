// What a store call refused with: the Refusal of the tka::Denied it threw, or a failed test
// when it threw nothing. Shared by the store suites, which assert the refusal a caller sees.
#pragma once

#include <catch2/catch.hpp>

#include <functional>

#include "common/errors.hpp"

namespace tka::test {

inline tka::Refusal reason_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const tka::Denied& d) {
        return d.reason();
    }
    FAIL("expected tka::Denied");
    return tka::Refusal::bad_request;
}

}  // namespace tka::test
