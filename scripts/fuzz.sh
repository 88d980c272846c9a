#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ and runs each for a bounded time (docs/testing.md,
# "Fuzzing"). Exit status 0 when every target ran its time without a crash, leak, timeout,
# out-of-memory or sanitizer report; otherwise 1, with each failing target's report and
# the command that reproduces it.
#
#   scripts/fuzz.sh               # 60 s per target (or $TKA_FUZZ_SECONDS)
#   scripts/fuzz.sh 600           # 10 minutes per target
#   scripts/fuzz.sh --total 30    # 30 s of wall time for all targets together (CI)
#   scripts/fuzz.sh 0             # build, then run only the committed seed corpus once
#
# Targets run $TKA_FUZZ_JOBS at a time (default 2: libFuzzer uses one core per target).
# With --total, each target gets the budget divided by the number of rounds
# (ceil(targets / jobs)), whole seconds, at least 1 s; the wall time spent fuzzing stays
# within the budget however many targets there are. Per-target times are for long runs.
#
# Build tree: build/fuzz (clang-14, TKA_FUZZ=ON, -O1 -g1, warnings as errors), kept
# between runs so only changed sources compile again; only the fuzz targets and the
# libraries they link are built. The targets come from build/fuzz/fuzz/fuzzers.tsv, which
# tka_add_fuzzer() in fuzz/CMakeLists.txt writes.
#
# Each run starts from a fresh copy of the committed corpus in build/fuzz/runs/<target>/
# (the repository is never written); that directory also holds the run's log. Inputs that
# fail land in build/fuzz/crashes/<target>/ (crash-*, leak-*, timeout-*, oom-*), which
# this script never empties. Installs nothing: scripts/install-deps.sh provides clang-14
# and libfuzzer-14-dev.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/fuzz"
total=""
if [ "${1:-}" = "--total" ]; then
  total="${2:-}"
  if ! [[ "$total" =~ ^[0-9]+$ ]]; then
    echo "fuzz.sh: --total takes a whole number of seconds, not '$total'" >&2
    exit 2
  fi
  seconds=""
else
  seconds="${1:-${TKA_FUZZ_SECONDS:-60}}"
  if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
    echo "fuzz.sh: seconds per target must be a whole number, not '$seconds'" >&2
    exit 2
  fi
fi
jobs="${TKA_FUZZ_JOBS:-2}"
if ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: TKA_FUZZ_JOBS must be a positive whole number, not '$jobs'" >&2
  exit 2
fi
if ! command -v clang++-14 >/dev/null 2>&1 ||
  [ ! -e "$(clang++-14 -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
  echo "fuzz.sh: needs clang-14 and libfuzzer-14-dev (scripts/install-deps.sh)" >&2
  exit 2
fi

cmake -S "$root" -B "$build" \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  -DTKA_FUZZ=ON -DTKA_BUILD_TESTS=OFF -DTKA_BUILD_BENCH=OFF \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON >/dev/null
cmake --build "$build" -j2 --target tka_fuzzers

# Stack traces with file:line; UBSan stops at its first report like ASan.
if [ -x /usr/bin/llvm-symbolizer-14 ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

# Reports that fail a target even if its exit status did not say so.
report_pattern='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|fuzz invariant broken'

# run_target NAME BINARY CORPUS DICT: one bounded run; prints one summary line.
run_target() {
  local name="$1" binary="$2" corpus="$3" dict="$4"
  local work="$build/runs/$name" crashes="$build/crashes/$name"
  local log="$work/fuzz.log" status=0 start end
  rm -rf "$work"
  mkdir -p "$work/corpus" "$crashes"
  cp -R "$corpus/." "$work/corpus/"
  local seeds
  seeds="$(find "$work/corpus" -type f | wc -l)"

  local args=(-timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1
    "-artifact_prefix=$crashes/")
  if [ "$seconds" -eq 0 ]; then
    args+=(-runs=0)
  else
    args+=("-max_total_time=$seconds")
  fi
  if [ -n "$dict" ]; then
    args+=("-dict=$dict")
  fi

  start="$(date +%s)"
  # The outer timeout only guards against a hung process; libFuzzer keeps its own bounds.
  # --foreground keeps it in this job's process group, which an interruption stops.
  (cd "$work" && timeout --foreground --kill-after=30 "$((seconds + 300))" \
    "$binary" "${args[@]}" "$work/corpus" >"$log" 2>&1) || status=$?
  end="$(date +%s)"

  local execs cov
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  cov="$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)"
  local summary
  summary="$name: ${execs:-?} execs, ${cov:-no coverage line}, corpus $seeds -> $(find "$work/corpus" -type f | wc -l) inputs, $((end - start)) s"

  if [ "$status" -eq 0 ] && ! grep -Eq "$report_pattern" "$log"; then
    echo "fuzz.sh: ok     $summary"
    return 0
  fi
  echo "fuzz.sh: FAILED $summary (exit $status)"
  # The report from its first line (the status lines before it say nothing), bounded.
  echo "--- $log, from the first report ---"
  awk -v pattern="$report_pattern|ERROR: |SUMMARY: |Test unit written" \
    'found || $0 ~ pattern { found = 1; print }' "$log" | head -n 120
  echo "---"
  local artifact
  sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | while IFS= read -r artifact; do
    echo "fuzz.sh: reproduce with: $binary $artifact"
  done
  return 1
}

manifest="$build/fuzz/fuzzers.tsv"
names=()
while IFS=$'\t' read -r name binary corpus dict; do
  [ -n "$name" ] || continue
  names+=("$name")
done <"$manifest"
count="${#names[@]}"
if [ "$count" -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets in $manifest" >&2
  exit 1
fi
if [ -n "$total" ]; then
  rounds=$(((count + jobs - 1) / jobs))
  seconds=$((total / rounds))
  if [ "$total" -gt 0 ] && [ "$seconds" -eq 0 ]; then
    seconds=1
  fi
  echo "fuzz.sh: $count targets, $jobs at a time, ${seconds} s each (budget ${total} s)"
fi

# Each target runs in a background job of its own process group (set -m), writing its
# summary to runs/<target>.out and its status to runs/<target>.status; the summaries are
# printed in manifest order once all have finished. Interrupted, the script stops the
# groups it started.
set -m
pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do
    kill -- "-$pid" 2>/dev/null || true
  done
}
trap 'stop_all; exit 130' INT TERM
mkdir -p "$build/runs"
running=0
while IFS=$'\t' read -r name binary corpus dict; do
  [ -n "$name" ] || continue
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  rm -f "$build/runs/$name.status"
  (
    status=0
    run_target "$name" "$binary" "$corpus" "$dict" >"$build/runs/$name.out" 2>&1 || status=$?
    echo "$status" >"$build/runs/$name.status"
  ) </dev/null &
  pids+=("$!")
  running=$((running + 1))
done <"$manifest"
for pid in "${pids[@]}"; do
  wait "$pid" || true
done
trap - INT TERM

failed=0
for name in "${names[@]}"; do
  cat "$build/runs/$name.out"
  if [ "$(cat "$build/runs/$name.status" 2>/dev/null || echo 1)" -ne 0 ]; then
    failed=$((failed + 1))
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: $failed of $count targets failed" >&2
  exit 1
fi
echo "fuzz.sh: all $count targets passed (${seconds} s each)"
