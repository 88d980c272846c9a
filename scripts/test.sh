#!/usr/bin/env bash
# The CI run (.ci/run), in named steps that each print their wall time:
#   formatting        every tracked C++ file against .clang-format
#   upstream brokers  the Mosquitto builds of the compatibility matrix from ../shared/upstream
#                     (scripts/upstream-brokers.sh; cached in build/upstream)
#   sanitizer build   everything with AddressSanitizer + UndefinedBehaviorSanitizer,
#                     warnings as errors, in build/test (the tree the tests run from)
#   release packages  GCC -O3 Release with the tests, warnings as errors, in
#                     build/release-tests, then cpack -G DEB into build/release-tests/packages
#   clang-14 TSan build  the whole tree (product and tests) with clang-14 and
#                     ThreadSanitizer, -O0 -g1, warnings as errors, in build/tsan: the
#                     second compiler's warnings, and the tree of the ThreadSanitizer tests
#   fuzzing           scripts/fuzz.sh: the libFuzzer targets of fuzz/ in build/fuzz, two at a
#                     time, TKA_FUZZ_TOTAL_SECONDS (default 30) of wall time in all, split
#                     evenly (or TKA_FUZZ_SECONDS per target when set)
#   tests             every test with ctest in build/test, including the package test,
#                     which installs the packages built above, uses and purges them
#                     (skipped when not root)
#   ThreadSanitizer tests  the plugin unit tests, the e2e suite on Debian's broker with
#                     the plugin's defaults (the "e2e:" run) and tokend's admin API and
#                     dashboard tests, with ctest in build/tsan
# Exit status: a failing build's, else ctest's, else the ThreadSanitizer tests', else the
# fuzzing step's, or 1 when only the formatting check failed. Works from any directory, on
# a fresh clone, as root or not, without a terminal.
#
#   scripts/test.sh                 # everything
#   TKA_TEST_JOBS=1 scripts/test.sh # run tests one at a time
#   TKA_FUZZ_TOTAL_SECONDS=600 scripts/test.sh # fuzz 10 minutes in all (0: seed corpora only)
#   TKA_FUZZ_SECONDS=300 scripts/test.sh # fuzz each target 5 minutes
#   scripts/test.sh -R tokenctl     # extra arguments go to the ctest of the tests step
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/test"
release="$root/build/release-tests"
tsan="$root/build/tsan"
jobs="${TKA_TEST_JOBS:-2}"
started="$(date +%s)"

# step NAME COMMAND...: runs one step, framed by its name and its wall time in seconds.
# (set -e does not apply inside COMMAND, so step functions chain their commands with &&.)
step() {
  local name="$1" start status=0
  shift
  echo "=== test.sh: $name" >&2
  start="$(date +%s)"
  "$@" || status=$?
  echo "=== test.sh: $name: $(($(date +%s) - start)) s$([ "$status" -eq 0 ] || echo ", exit $status")" >&2
  return "$status"
}

step "dependencies" "$root/scripts/install-deps.sh" </dev/null

# Formatting: every tracked C++ file must already be clang-formatted.
format_status=0
check_format() {
  local sources
  cd "$root"
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t sources < <(git -C "$root" ls-files -- '*.cpp' '*.hpp')
  else
    mapfile -t sources < <(find . -path ./build -prune -o \( -name '*.cpp' -o -name '*.hpp' \) -print)
  fi
  if [ "${#sources[@]}" -gt 0 ] && ! clang-format --dry-run -Werror "${sources[@]}"; then
    echo "test.sh: formatting differs from .clang-format (fix with: clang-format -i <file>)" >&2
    return 1
  fi
}
step "formatting" check_format || format_status=1

# --- Compatibility matrix ------------------------------------------------------------------
# The upstream Mosquitto brokers from ../shared/upstream, built once and cached in
# build/upstream (scripts/upstream-brokers.sh); the e2e matrix legs and the plugin symbol
# checks run against them (docs/testing.md). Without ../shared/upstream the list is empty
# and those tests report SKIPPED.
upstream_brokers="$(step "upstream brokers" "$root/scripts/upstream-brokers.sh" </dev/null |
  paste -sd ';' -)"
matrix_args=("-DTKA_UPSTREAM_BROKERS=$upstream_brokers")
# --- end of compatibility matrix ------------------------------------------------------------

# -O1 -g1 instead of RelWithDebInfo's -O2 -g: the usual optimisation level for ASan
# (reports stay exact, inlining is light) and line tables plus function names, which is all
# a sanitizer stack trace needs (file:line, inlined frames included). It compiles the suite
# in a fraction of the -O2 -g CPU time (docs/testing.md). Same warning flags and sanitizers.
# The package test finds the .deb files of the release step through TKA_PACKAGE_DIR.
sanitizer_build() {
  cmake -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    -DTKA_SANITIZE=ON \
    -DTKA_BUILD_TESTS=ON \
    -DCMAKE_COMPILE_WARNING_AS_ERROR=ON \
    "-DTKA_PACKAGE_DIR=$release/packages" \
    "${matrix_args[@]}" &&
    cmake --build "$build" -j2
}
step "sanitizer build (GCC, ASan+UBSan, tests)" sanitizer_build

# The flow-based GCC warnings (-Wstringop-*, -Warray-bounds, -Wmaybe-uninitialized) see
# most at -O3, so the Release tree compiles the tests too; its programs become the packages.
step "release build and packages (GCC -O3, tests)" \
  "$root/scripts/package.sh" "$release" -DTKA_BUILD_TESTS=ON -DCMAKE_COMPILE_WARNING_AS_ERROR=ON

# A second compiler's warnings over product and tests, and the tree of the ThreadSanitizer
# tests below. -O0 -g1: TSan's reports are as exact at -O0 (file:line from the line
# tables), and the tree compiles in about half the CPU time of -O1 (docs/testing.md);
# Debug, so without NDEBUG: the product's assert()s run in those tests.
tsan_build() {
  cmake -S "$root" -B "$tsan" \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O0 -g1" "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" \
    -DTKA_TSAN=ON \
    -DTKA_BUILD_TESTS=ON \
    -DCMAKE_COMPILE_WARNING_AS_ERROR=ON &&
    cmake --build "$tsan" -j2
}
step "clang-14 TSan build (tests)" tsan_build

# Coverage-guided fuzzing with ASan + UBSan; a crash, leak, timeout or sanitizer report
# fails the run like a failing test, after the tests have run. A bounded budget in all
# (the targets share it); long runs are scripts/fuzz.sh <seconds per target>.
fuzz_status=0
if [ -n "${TKA_FUZZ_SECONDS:-}" ]; then
  fuzz_args=("$TKA_FUZZ_SECONDS")
  fuzz_name="fuzzing (${TKA_FUZZ_SECONDS} s per target)"
else
  fuzz_args=(--total "${TKA_FUZZ_TOTAL_SECONDS:-30}")
  fuzz_name="fuzzing (${TKA_FUZZ_TOTAL_SECONDS:-30} s in all)"
fi
step "$fuzz_name" "$root/scripts/fuzz.sh" "${fuzz_args[@]}" </dev/null || fuzz_status=$?

# Sanitizer reports make a test fail, with a stack trace in its output.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Each test starts its own redis-server / mosquitto on free loopback ports, so tests can
# run side by side; the timeout turns a hung test into a failure instead of a stuck CI.
ctest_status=0
step "tests (ctest -j$jobs)" \
  ctest --test-dir "$build" --output-on-failure --timeout 300 -j"$jobs" "$@" </dev/null ||
  ctest_status=$?

# The plugin's threads (broker thread, lookup worker, event consumer, replica sync) under
# ThreadSanitizer: its unit tests and the e2e suite on Debian's broker with the plugin's
# defaults; the broker is started with the TSan runtime preloaded (tests/e2e/CMakeLists.txt).
# Also tokend's admin listener (its own workers, sessions shared with the event loop, the
# sign-in throttle, the usage sampler): the admin API and dashboard tests, whose tokend is
# the TSan build. A report fails the test: a unit test exits 66, a report in the broker's
# or tokend's log fails the case. The cache-off run and the compatibility legs run under
# ASan only (docs/testing.md).
tsan_status=0
step "ThreadSanitizer tests (plugin unit + e2e + tokend admin, ctest -j$jobs)" \
  env TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1}" \
  ctest --test-dir "$tsan" --output-on-failure --timeout 300 -j"$jobs" \
  -R '^(plugin unit|e2e):|^tokend:(admin API|dashboard pages):' </dev/null || tsan_status=$?

echo "=== test.sh: total: $(($(date +%s) - started)) s" >&2
if [ "$ctest_status" -ne 0 ]; then
  exit "$ctest_status"
fi
if [ "$tsan_status" -ne 0 ]; then
  exit "$tsan_status"
fi
if [ "$fuzz_status" -ne 0 ]; then
  exit "$fuzz_status"
fi
exit "$format_status"
