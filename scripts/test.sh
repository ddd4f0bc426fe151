#!/usr/bin/env bash
# The release build must compile warning-free, then the whole test suite runs on the sanitizer build: C unit tests (ctest) and the black-box API tests
# (node --test against servers the harness starts on free ports with fresh data directories). A local
# S3-protocol server (tests/s3/with-s3.sh) runs for the whole suite: the blob-store unit tests and the file
# API suites run once on the filesystem driver and once on the S3 driver.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/check-src.sh       # no unbounded copies or decodes in src/ (docs/security-testing.md)
scripts/build.sh Release   # the README's run build: optimized builds warn about things -O1 does not see
scripts/build.sh Sanitize
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export BASALT_BIN="$PWD/build-test/basalt"
tests/s3/with-s3.sh bash -c '
  set -e
  (cd build-test && ctest --output-on-failure -j2)
  node --test tests/api/*.test.mjs
  BASALT_TEST_FILES=s3 node --test tests/api/files.test.mjs tests/api/files_direct.test.mjs tests/api/images.test.mjs'
scripts/fuzz.sh --all 10   # each libFuzzer target briefly, from its committed corpus (clang build in build-fuzz/)

