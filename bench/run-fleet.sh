#!/usr/bin/env bash
# run-fleet.sh: what joining a fleet costs and what a second instance gives (issue 15's benchmark). Run it
# under bench/run-pg.sh, which starts the PostgreSQL server both stores live on:
#
#   bench/run-pg.sh bench/run-fleet.sh
#
# It starts a Redis 7 of its own (no persistence, a free port), seeds N posts (default 20,000) with the
# timeline index, then measures get by id and the indexed list in four setups, then create in the same
# four (creates grow the table the lists read), each line in the format of run-parse.sh:
#   single      one instance without --redis (the process alone: admission in memory)
#   redis       the same instance with --redis (every /v1 call admitted in Redis: one round trip)
#   lb1         that instance behind HAProxy (round robin over one server: what the balancer costs)
#   lb2         two instances with --redis behind HAProxy (round robin)
# The instances are pinned with taskset (the first to CPU 0, the second to CPU 1, when the machine has two
# or more); wrk, HAProxy, PostgreSQL and Redis are not pinned and share the same CPUs, so on a small machine
# the last line says as much about the machine as about Basalt. The fleet costs per request are the
# differences of the lines: redis − single (the Redis decision, p50 and p99), lb2 / lb1 (the second
# instance). Needs haproxy and redis-server (scripts/install-deps.sh --test installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${N:-20000}
[ -n "${BASALT_CONTROL_STORE:-}" ] && [ -n "${BASALT_ENV_STORE:-}" ] ||
  { echo "run-fleet.sh: run it as bench/run-pg.sh bench/run-fleet.sh (the instances share PostgreSQL)" >&2; exit 2; }
command -v haproxy >/dev/null && command -v redis-server >/dev/null ||
  { echo "run-fleet.sh: haproxy and redis-server are needed (scripts/install-deps.sh --test)" >&2; exit 1; }
scripts/build.sh Release >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DATA=$(mktemp -d "$WORK/fleet.XXXX")
RPORT=$(free_port); P1=$(free_port); P2=$(free_port); LB=$(free_port)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DATA" >/dev/null 2>&1 & pids+=($!)
REDIS="redis://127.0.0.1:$RPORT/0"
cpu() { [ "$(nproc)" -ge 2 ] && echo "$1" || echo 0; }

# serve PORT CPU [ARGS...]: one instance on the shared stores and data directory; prints its pid
serve() {
  local port=$1 c=$2; shift 2
  taskset -c "$(cpu "$c")" build/basalt serve --listen 127.0.0.1:"$port" --data "$DATA" --log-level warn "$@" \
    >>"$DATA/serve.log" 2>&1 &
  echo $!
}
stop_pid() { # (the instances are not this shell's children: they were started in $(...))
  kill "$1" 2>/dev/null || true
  local k; for k in $(seq 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
}

# balancer PORT...: HAProxy round robin over the given instance ports (health checked on /healthz)
balancer() {
  local cfg="$DATA/haproxy.cfg" i=0
  printf 'global\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n' >"$cfg"
  printf 'frontend fe\n  bind 127.0.0.1:%s\n  default_backend be\nbackend be\n  balance roundrobin\n  option httpchk GET /healthz\n' "$LB" >>"$cfg"
  for p in "$@"; do i=$((i + 1)); printf '  server s%s 127.0.0.1:%s check inter 1s\n' "$i" "$p" >>"$cfg"; done
  haproxy -f "$cfg" -db >>"$DATA/haproxy.log" 2>&1 &
  echo $!
}

# reads LABEL URL / writes LABEL URL: get by id and the indexed list, or create, through URL
reads() {
  wait_http "$2/healthz"
  bench "$1_get_by_id" -s bench/data.lua "$2" -- get "$SK" "$WORK/fleet-ids.txt"
  bench "$1_list_published_idx" -s bench/data.lua "$2" -- list "$SK"
}
writes() {
  wait_http "$2/healthz"
  bench "$1_create_post" -s bench/data.lua "$2" -- create "$SK"
}

# setup NAME: starts the processes of one setup (sets URL, RUNNING); teardown stops them
RUNNING=()
setup() {
  case $1 in
    single) RUNNING=("$(serve "$P1" 0)"); URL="http://127.0.0.1:$P1" ;;
    redis) RUNNING=("$(serve "$P1" 0 --redis "$REDIS")"); URL="http://127.0.0.1:$P1" ;;
    lb1) RUNNING=("$(serve "$P1" 0 --redis "$REDIS")"); wait_http "http://127.0.0.1:$P1/healthz"
         RUNNING+=("$(balancer "$P1")"); URL="http://127.0.0.1:$LB" ;;
    lb2) RUNNING=("$(serve "$P1" 0 --redis "$REDIS")" "$(serve "$P2" 1 --redis "$REDIS")")
         wait_http "http://127.0.0.1:$P1/healthz"; wait_http "http://127.0.0.1:$P2/healthz"
         RUNNING+=("$(balancer "$P1" "$P2")"); URL="http://127.0.0.1:$LB"; sleep 1.5 ;; # both seen healthy
  esac
  pids+=("${RUNNING[@]}")
  wait_http "$URL/healthz"
}
teardown() {
  local p rss=""
  for p in "${RUNNING[@]}"; do [ "$(cat /proc/$p/comm 2>/dev/null)" = basalt ] && rss="$rss $(peak_rss_mb "$p")"; done
  echo "$1_peak_rss_mb$rss"
  for p in "${RUNNING[@]}"; do stop_pid "$p"; done
  RUNNING=()
}

A=$(serve "$P1" 0); pids+=("$A")
wait_http "http://127.0.0.1:$P1/healthz"
SK=$(bootstrap_get "$DATA" secretKey)
enterprise "http://127.0.0.1:$P1" "$DATA"
# Enterprise has no monthly API-call quota, so no call would be admitted in Redis: a quota no run reaches
# makes every /v1 call one Redis decision in the --redis setups (what a fleet pays)
build/basalt operator quota "$(bootstrap_get "$DATA" organizationId)" api_call 1000000000 --data "$DATA" >/dev/null
posts_table "http://127.0.0.1:$P1" "$DATA"
machine
seed_posts "http://127.0.0.1:$P1" "$SK" "$N"
curl -sf -H "X-API-Key: $SK" "http://127.0.0.1:$P1/v1/data/posts?limit=100&select=title" | json_ids >"$WORK/fleet-ids.txt"
curl -sf -H "X-API-Key: $SK" "http://127.0.0.1:$P1$LIST_PATH" >/dev/null # the list's total, counted once
stop_pid "$A"
echo "# instances pinned: first to CPU $(cpu 0), second to CPU $(cpu 1); $N posts; stores on PostgreSQL"
echo "# reads of every setup first, then the creates of every setup (creates grow the table the lists read)"
for phase in reads writes; do
  for s in single redis lb1 lb2; do setup "$s"; "$phase" "$s" "$URL"; teardown "$s"; done
done
echo "redis $(redis-server --version | awk '{sub("v=", "", $3); print $3}'), haproxy $(haproxy -v | awk 'NR==1{print $3}')"
