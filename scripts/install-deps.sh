#!/usr/bin/env bash
# Installs what Basalt needs to build, run and test on Debian 12, from Debian's packages only.
# Idempotent and quiet when everything is present (no apt-get update then). Run as root.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the tests and benchmarks need
set -euo pipefail

packages=(build-essential cmake pkg-config libmicrohttpd-dev libjson-c-dev libsqlite3-dev libinih-dev
          libssl-dev libpcre2-dev libxxhash-dev libsodium-dev libcurl4-openssl-dev libvips-dev libexpat1-dev libpq-dev libhiredis-dev ca-certificates
          libjs-chart.js)   # the console's charts, served at /console/vendor/chart.js (--console-chart-js); run and test alike
if [[ "${1:-}" == "--test" ]]; then
  packages+=(libcmocka-dev wrk curl python3-aiosmtpd sqlite3 postgresql-15 redis-server)   # sqlite3: tests look inside the shared cluster files; redis-server: tests/redis/with-redis.sh
  packages+=(clang libclang-rt-dev)   # the libFuzzer targets (scripts/fuzz.sh, docs/security-testing.md)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)   # installs the local S3 server of the tests (tests/s3)
  packages+=(chromium)   # the console's browser test (tests/console, driven by puppeteer-core)
  packages+=(haproxy)    # the load balancer of the fleet tests (tests/lb: run as a plain process, never as the service)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ "${1:-}" == "--test" && ! -d "$(dirname "$0")/../tests/console/node_modules/puppeteer-core" ]]; then
  # puppeteer-core only (no browser download): it drives Debian's chromium in tests/console/run.sh.
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix "$(dirname "$0")/../tests/console" --no-audit --no-fund >/dev/null
fi
