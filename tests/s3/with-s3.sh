#!/usr/bin/env bash
# with-s3.sh CMD...: runs CMD with a local S3-protocol server (s3rver, see start.mjs) and the variables the
# S3 blob tests read (BASALT_TEST_S3_ENDPOINT, _BUCKET, _ACCESS_KEY, _SECRET_KEY), then stops the server
# and exits with CMD's status. Installs the server's locked npm packages first when they are missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
if [ ! -d "$here/node_modules" ]; then
  npm ci --prefix "$here" --no-audit --no-fund >&2
fi

out="$(mktemp)"
pid=""
stop() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$out"
}
trap stop EXIT
trap 'exit 130' INT TERM

# DES continuation tokens of s3rver need the legacy provider on OpenSSL 3 (listings past 1000 keys)
node --openssl-legacy-provider "$here/start.mjs" >"$out" &
pid=$!
endpoint=""
for _ in $(seq 1 300); do # up to 30 s
  endpoint="$(sed -n 's/^S3 //p' "$out")"
  [ -n "$endpoint" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-s3.sh: the S3 server exited before it was ready" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$endpoint" ]; then
  echo "with-s3.sh: the S3 server did not start within 30 s" >&2
  exit 1
fi

export BASALT_TEST_S3_ENDPOINT="$endpoint"
export BASALT_TEST_S3_BUCKET=basalt-test
export BASALT_TEST_S3_ACCESS_KEY=S3RVER
export BASALT_TEST_S3_SECRET_KEY=S3RVER
status=0
"$@" || status=$?
exit "$status"
