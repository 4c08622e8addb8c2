#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/, then runs each for N seconds (default 60) over a
# temporary copy of its seed corpus (tests/fuzz/corpus/<name>/ is never modified). Prints the
# executions, exec/s and coverage of each harness; fails if any finds a crash, a sanitizer report
# or a broken invariant, and keeps the inputs that did in build-fuzz/findings/<name>/.
#
#   deploy/fuzz.sh [--seconds=N] [harness...]    e.g. deploy/fuzz.sh --seconds=120 slots
set -euo pipefail
cd "$(dirname "$0")/.."

all=(request_validation screening slots agreement_hash icalendar)
seconds=60
harnesses=()
for arg in "$@"; do
  case "$arg" in
    --seconds=*) seconds="${arg#--seconds=}" ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $arg" >&2; exit 2 ;;
    *) harnesses+=("$arg") ;;
  esac
done
if [ ${#harnesses[@]} -eq 0 ]; then harnesses=("${all[@]}"); fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz.sh: --seconds must be a positive number" >&2
  exit 2
fi

generator=()
if [ ! -f build-fuzz/CMakeCache.txt ] && command -v ninja > /dev/null; then generator=(-G Ninja); fi
cmake -S . -B build-fuzz "${generator[@]}" -DMEDIATION_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Release > /dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=()
printf '%-20s %12s %10s %8s %8s %7s  %s\n' harness executions exec/s cov ft corpus result
for h in "${harnesses[@]}"; do
  mkdir -p "$work/$h/corpus" "$work/$h/findings"
  if [ -d "tests/fuzz/corpus/$h" ]; then cp -r "tests/fuzz/corpus/$h/." "$work/$h/corpus/"; fi
  rc=0
  "build-fuzz/tests/fuzz/fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -len_control=0 \
    -print_final_stats=1 -artifact_prefix="$work/$h/findings/" "$work/$h/corpus" \
    > "$work/$h/log" 2>&1 || rc=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h/log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$h/log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$work/$h/log" | tail -1 | cut -d' ' -f2)"
  ft="$(grep -o 'ft: [0-9]*' "$work/$h/log" | tail -1 | cut -d' ' -f2)"
  corpus="$(find "$work/$h/corpus" -type f | wc -l)"
  result=ok
  if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/$h/findings")" ]; then
    result=FAILED
    failed+=("$h")
    mkdir -p "build-fuzz/findings/$h"
    cp -r "$work/$h/findings/." "build-fuzz/findings/$h/"
  fi
  printf '%-20s %12s %10s %8s %8s %7s  %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "$corpus" "$result"
  if [ "$result" = FAILED ]; then
    echo "---- fuzz_$h (exit $rc); its input is kept in build-fuzz/findings/$h/:" >&2
    grep -v '^#[0-9]' "$work/$h/log" | tail -40 >&2
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz.sh: findings in ${failed[*]}" >&2
  exit 1
fi
