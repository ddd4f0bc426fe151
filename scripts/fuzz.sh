#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, build-fuzz/) and runs them from their committed corpora.
#   scripts/fuzz.sh TARGET [SECONDS]   one target for SECONDS (default 60)
#   scripts/fuzz.sh --all [SECONDS]    every target in turn, SECONDS each (default 10)
#   scripts/fuzz.sh --list             the targets
# Targets: fuzz/fuzz_TARGET.c, seeds in fuzz/corpus/TARGET/ (docs/security-testing.md). Inputs the fuzzer
# finds go to build-fuzz/corpus/TARGET (kept between runs, not committed); a crash stops the run with
# build-fuzz/crash-TARGET-* and a non-zero exit. Reproduce one with: build-fuzz/fuzz_TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(json query router token idtoken storage_key schema xml cookie busmsg)
case "${1:-}" in
  --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
  --all) run=("${targets[@]}"); secs=${2:-10} ;;
  ""|-h|--help) sed -n '2,8p' "$0"; exit 2 ;;
  *) [[ " ${targets[*]} " == *" $1 "* ]] || { echo "unknown target: $1 (try --list)" >&2; exit 2; }
     run=("$1"); secs=${2:-60} ;;
esac

cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Sanitize -DBASALT_FUZZ=ON -DBASALT_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${run[@]/#/fuzz_}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "${run[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "== fuzz_$t: ${secs}s" >&2
  build-fuzz/"fuzz_$t" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crash-$t-" "build-fuzz/corpus/$t" "fuzz/corpus/$t" 2>"build-fuzz/fuzz_$t.log" || {
    tail -60 "build-fuzz/fuzz_$t.log" >&2
    echo "fuzz_$t failed: see build-fuzz/fuzz_$t.log and build-fuzz/crash-$t-*" >&2
    exit 1
  }
  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "build-fuzz/fuzz_$t.log" | tail -1 >&2 || true
done
