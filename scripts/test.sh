#!/usr/bin/env bash
# The release build must compile warning-free, then the whole test suite runs twice: on the ASan+UBSan build
# and on the ThreadSanitizer build. Each pass runs the C unit tests (ctest) and the black-box API tests (node
# --test against servers the harness starts on free ports with fresh data directories). A local S3-protocol
# server (tests/s3/with-s3.sh) and a PostgreSQL 15 server (tests/pg/with-pg.sh) run for the whole suite:
# the blob-store unit tests and the file API suites run once on the filesystem driver and once on the S3
# driver; the PostgreSQL drivers' unit tests run against the server, and the API suite runs a third time
# with the control and environment stores on it; the console's browser test runs once. A Redis server
# (tests/redis/with-redis.sh) runs for each sanitizer pass: the Redis client's unit tests and the fleet test
# (tests/api/fleet_quota.test.mjs: three instances, exact admission, Redis stopped mid-test), and the quota
# suite once more with its API calls admitted in Redis (BASALT_TEST_REDIS=1). On the ASan build the API suite
# also runs through HAProxy in front of three instances (BASALT_TEST_FLEET=3). A sanitizer report
# fails the server's exit code, and so the test that stopped it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/check-src.sh       # no unbounded copies or decodes in src/ (docs/security-testing.md)
scripts/build.sh Release   # the README's run build: optimized builds warn about things -O1 does not see
scripts/build.sh Sanitize
scripts/build.sh Thread
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-ignore_noninstrumented_modules=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan/suppressions.txt}

# One pass of the suite on the build in $1.
suite() {
  local dir=$1
  echo "== test pass: $dir =="
  BASALT_BIN="$PWD/$dir/basalt" tests/pg/with-pg.sh tests/s3/with-s3.sh tests/redis/with-redis.sh bash -c '
    set -e
    (cd '"$dir"' && ctest --output-on-failure -j2)
    node --test tests/api/*.test.mjs
    BASALT_TEST_FILES=s3 node --test tests/api/files.test.mjs tests/api/files_direct.test.mjs tests/api/images.test.mjs
    BASALT_TEST_FILES=s3 node --test --test-name-pattern="a file uploaded through instance A" tests/api/fleet_lb.test.mjs
    BASALT_TEST_REDIS=1 node --test tests/api/quota.test.mjs'
}

suite build-test
# The API suite once more on the ASan build with both stores on PostgreSQL: every control store, and
# every environment's data (a database per data directory, schemas per slot, a database per dedicated
# environment; docs/operations.md "Running on PostgreSQL").
echo "== test pass: build-test, control and environment stores on PostgreSQL =="
BASALT_BIN="$PWD/build-test/basalt" BASALT_TEST_CONTROL=pg BASALT_TEST_ENV=pg tests/pg/with-pg.sh node --test tests/api/*.test.mjs
# The API suite through a real load balancer: every server a test starts is three instances on one data
# directory, one PostgreSQL control store and env store and one Redis, behind Debian's HAProxy run from
# deploy/haproxy/basalt.cfg (docs/operations.md "Behind a load balancer"); tests about one process skip
# themselves (onlyOneProcess in tests/api/harness.mjs).
echo "== test pass: build-test, the API suite through HAProxy in front of three instances =="
BASALT_BIN="$PWD/build-test/basalt" BASALT_TEST_FLEET=3 BASALT_TEST_CONTROL=pg BASALT_TEST_ENV=pg \
  tests/pg/with-pg.sh tests/s3/with-s3.sh tests/redis/with-redis.sh node --test tests/api/*.test.mjs
# The web console in Debian's chromium (tests/console; its screenshots go to a scratch directory here, the
# committed ones in docs/console/ are refreshed by running tests/console/run.sh by hand).
echo "== test pass: the console in chromium =="
shots="$(mktemp -d)"
BASALT_BIN="$PWD/build-test/basalt" CONSOLE_SHOTS="$shots" tests/console/run.sh
rm -rf "$shots"
suite build-tsan
scripts/fuzz.sh --all 10   # each libFuzzer target briefly, from its committed corpus (clang build in build-fuzz/)
