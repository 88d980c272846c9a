#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer and warnings as
# errors in build/test, runs every test with ctest, and checks the C++ formatting against
# .clang-format. Exit status: ctest's, or 1 when only the formatting check failed.
# Works from any directory, on a fresh clone, as root or not, without a terminal (CI).
#
#   scripts/test.sh                 # everything
#   TKA_TEST_JOBS=1 scripts/test.sh # run tests one at a time
#   scripts/test.sh -R tokenctl     # extra arguments go to ctest
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/test"
jobs="${TKA_TEST_JOBS:-2}"

"$root/scripts/install-deps.sh" </dev/null

# Formatting: every tracked C++ file must already be clang-formatted.
format_status=0
cd "$root"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t sources < <(git -C "$root" ls-files -- '*.cpp' '*.hpp')
else
  mapfile -t sources < <(find . -path ./build -prune -o \( -name '*.cpp' -o -name '*.hpp' \) -print)
fi
if [ "${#sources[@]}" -gt 0 ]; then
  if ! clang-format --dry-run -Werror "${sources[@]}"; then
    echo "test.sh: formatting differs from .clang-format (fix with: clang-format -i <file>)" >&2
    format_status=1
  fi
fi

# -O1 -g1 instead of RelWithDebInfo's -O2 -g: the usual optimisation level for ASan
# (reports stay exact, inlining is light) and line tables plus function names, which is all
# a sanitizer stack trace needs (file:line, inlined frames included). It compiles the suite
# in a fraction of the -O2 -g CPU time (docs/testing.md). Same warning flags and sanitizers.
cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
  -DTKA_SANITIZE=ON \
  -DTKA_BUILD_TESTS=ON \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
cmake --build "$build" -j2

# Sanitizer reports make a test fail, with a stack trace in its output.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Each test starts its own redis-server / mosquitto on free loopback ports, so tests can
# run side by side; the timeout turns a hung test into a failure instead of a stuck CI.
ctest_status=0
ctest --test-dir "$build" --output-on-failure --timeout 300 -j"$jobs" </dev/null "$@" ||
  ctest_status=$?

if [ "$ctest_status" -ne 0 ]; then
  exit "$ctest_status"
fi
exit "$format_status"
