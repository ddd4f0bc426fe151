#!/usr/bin/env bash
# run-auth.sh: sign-in (Argon2id verification, new session, tokens) and GET /v1/auth/me (JWT check +
# session and user reads) against build/basalt on a fresh data directory. Usage: bench/run-auth.sh
# (CONN defaults to 16 here: each concurrent sign-in holds 19 MiB of Argon2 memory while it runs).
set -euo pipefail
cd "$(dirname "$0")/.."
CONN=${CONN:-16}
source bench/lib.sh
scripts/build.sh Release >/dev/null
DATA=$(mktemp -d "$WORK/auth.XXXX")
build/basalt serve --listen 127.0.0.1:18095 --data "$DATA" --log-level warn >/dev/null 2>&1 & PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
wait_http http://127.0.0.1:18095/healthz
PK=$(bootstrap_get "$DATA" publishableKey)
U=http://127.0.0.1:18095
enterprise $U "$DATA"
AT=$(curl -sf -H "X-API-Key: $PK" -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password","name":"Bench"}' "$U/v1/auth/email/signup" |
  sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
machine
bench signin_argon2id_19MiB_t2 -s bench/auth.lua $U -- signin "$PK" bench@example.com bench-password "$AT"
bench auth_me -s bench/auth.lua $U -- me "$PK" x x "$AT"
echo "server_peak_rss_mb $(peak_rss_mb $PID)"
