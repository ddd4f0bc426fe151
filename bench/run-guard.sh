#!/usr/bin/env bash
# run-guard.sh: what a project's allowedOrigins / ipWhitelist check (core/project_guard) and the /v1 use
# record (api/env_lifecycle touch) cost on the request path: a keyed /v1 request with no
# rules, then with 20 origins and 100 address ranges set (the last of each matching), access log off.
# The request lists an empty table (a 200: every measured answer must be 2xx, bench/lib.sh).
# Usage: bench/run-guard.sh [BASALT_BINARY]   (default: builds Release and uses build/basalt)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
BIN=${1:-}
if [ -z "$BIN" ]; then scripts/build.sh Release >/dev/null; BIN=build/basalt; fi
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
machine

DATA=$(mktemp -d "$WORK/data.XXXX")
"$BIN" serve --listen 127.0.0.1:18095 --data "$DATA" --log-level warn >/dev/null 2>&1 & PIDS+=($!)
wait_http http://127.0.0.1:18095/healthz
PK=$(sed -n 's/.*"publishableKey": "\(.*\)".*/\1/p' "$DATA/bootstrap.json")
TOKEN=$(sed -n 's/.*"operatorToken": "\(.*\)".*/\1/p' "$DATA/bootstrap.json")
PROJECT=$(sed -n 's/.*"projectId": "\(.*\)".*/\1/p' "$DATA/bootstrap.json")
enterprise http://127.0.0.1:18095 "$DATA"
open_table http://127.0.0.1:18095 "$DATA" posts
ORIGIN=https://app19.example.com
bench v1_keyed_no_rules -H "X-API-Key: $PK" -H "Origin: $ORIGIN" http://127.0.0.1:18095/v1/data/posts
ORIGINS=$(for i in $(seq 0 19); do printf '"https://app%d.example.com",' "$i"; done)
RANGES=$(for i in $(seq 1 99); do printf '"10.%d.0.0/16",' "$i"; done)
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"settings\":{\"allowedOrigins\":[${ORIGINS%,}],\"ipWhitelist\":[${RANGES}\"127.0.0.0/8\"]}}" \
  "http://127.0.0.1:18095/admin/v1/projects/$PROJECT")
[ "$code" = 200 ] || { echo "settings not stored ($code)" >&2; exit 1; }
bench v1_keyed_20_origins_100_ranges -H "X-API-Key: $PK" -H "Origin: $ORIGIN" http://127.0.0.1:18095/v1/data/posts
echo "server_peak_rss_mb $(peak_rss_mb "${PIDS[0]}")"
rm -rf "$DATA"
