#!/usr/bin/env bash
# run-stack.sh: the ceiling of the HTTP stack (libmicrohttpd + router + json-c + SQLite, no Basalt
# logic), then the full server: GET /healthz and a keyed /v1 request (API-key check through the cache,
# then the list of an empty table: a 200, since every measured answer must be 2xx, bench/lib.sh).
# Usage: bench/run-stack.sh   (builds Release first; prints one line per measure)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
scripts/build.sh Release >/dev/null
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
machine

build/basalt-stackbench --listen 127.0.0.1:18090 --db "$WORK/stack.db" 2>/dev/null & PIDS+=($!)
wait_http http://127.0.0.1:18090/hello
bench stack_hello http://127.0.0.1:18090/hello
bench stack_echo_1kb_json -s bench/stack.lua http://127.0.0.1:18090 -- echo
bench stack_get_by_id_sqlite -s bench/stack.lua http://127.0.0.1:18090 -- items
echo "stack_peak_rss_mb $(peak_rss_mb "${PIDS[0]}")"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()

DATA=$(mktemp -d "$WORK/data.XXXX")
build/basalt serve --listen 127.0.0.1:18091 --data "$DATA" >/dev/null 2>"$WORK/access.log" & PIDS+=($!)
wait_http http://127.0.0.1:18091/healthz
PK=$(sed -n 's/.*"publishableKey": "\(.*\)".*/\1/p' "$DATA/bootstrap.json")
enterprise http://127.0.0.1:18091 "$DATA"
open_table http://127.0.0.1:18091 "$DATA" posts
bench server_healthz_access_log_on http://127.0.0.1:18091/healthz
bench server_v1_keyed_access_log_on -H "X-API-Key: $PK" http://127.0.0.1:18091/v1/data/posts
echo "server_peak_rss_mb $(peak_rss_mb "${PIDS[0]}") access_log_lines $(wc -l < "$WORK/access.log")"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()

build/basalt serve --listen 127.0.0.1:18092 --data "$DATA" --log-level warn >/dev/null 2>&1 & PIDS+=($!)
wait_http http://127.0.0.1:18092/healthz
bench server_healthz_access_log_off http://127.0.0.1:18092/healthz
bench server_v1_keyed_access_log_off -H "X-API-Key: $PK" http://127.0.0.1:18092/v1/data/posts
rm -rf "$DATA"
