// Invariant checks for fuzz targets. A broken invariant prints what broke and aborts, which
// libFuzzer reports as a crash and saves the input that caused it (docs/testing.md,
// "Fuzzing"). Unlike assert(), it stays active with NDEBUG.
#pragma once

#include <cstdio>
#include <cstdlib>

#define TKA_FUZZ_CHECK(condition)                                                          \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__, \
                         #condition);                                                      \
            std::abort();                                                                  \
        }                                                                                  \
    } while (false)

// An invariant broken by reaching this point (e.g. an exception that must not occur).
#define TKA_FUZZ_FAIL(what)                                                                   \
    do {                                                                                      \
        std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__, what); \
        std::abort();                                                                         \
    } while (false)
