#!/usr/bin/env bash
# The release build must compile warning-free, then the whole test suite runs on the sanitizer build: C unit tests (ctest) and the black-box API tests
# (node --test against servers the harness starts on free ports with fresh data directories).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh Release   # the README's run build: optimized builds warn about things -O1 does not see
scripts/build.sh Sanitize
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd build-test && ctest --output-on-failure -j2)
export BASALT_BIN="$PWD/build-test/basalt"
node --test tests/api/*.test.mjs
