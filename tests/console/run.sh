#!/usr/bin/env bash
# The web console's browser test: Debian's chromium (CHROMIUM, default /usr/bin/chromium) driven by
# puppeteer-core, against a server of BASALT_BIN (default build-test/basalt, as tests/api). Installs the
# test's npm package on first use (npm ci, from package-lock.json; no browser is downloaded).
# Screenshots go to docs/console/ (CONSOLE_SHOTS to write them elsewhere).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [[ ! -d "$here/node_modules/puppeteer-core" ]]; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix "$here" --no-audit --no-fund >&2
fi
command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null || { echo "chromium is missing: scripts/install-deps.sh --test" >&2; exit 1; }
exec node --test --test-reporter=spec "$here/console.test.mjs"
