#!/usr/bin/env bash
# run-meter.sh: what usage metering (core/meter, docs/usage.md) costs on the data API: the get-by-id and
# indexed-list workloads of run-data.sh against one data directory, served alternately with --metering 1
# and --metering 0 (ROUNDS rounds, on/off/on/off..., so drift hits both alike), access log off. Each line
# has the throughput and the server's CPU time per request (utime + stime from /proc, steadier than req/s
# on a shared machine); the summary gives the medians per mode and the cost of metering. Then the meter's
# memory per tracked environment and per MAU user (test_meter's report: exact allocation sizes).
# Usage: bench/run-meter.sh [BUILD_DIR]   (default build, the Release build of scripts/build.sh; configured and built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${N:-20000}; ROUNDS=${ROUNDS:-5}
BUILD=${1:-build}
if [ ! -x "$BUILD/basalt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build "$BUILD" -j2 >/dev/null
fi
BIN=$BUILD/basalt
DATA=$(mktemp -d "$WORK/data.XXXX")
PID=
stop() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=; }
trap 'stop || true; rm -rf "$DATA"' EXIT
U=http://127.0.0.1:18097
serve() { # METERING
  "$BIN" serve --listen 127.0.0.1:18097 --data "$DATA" --log-level warn --metering "$1" >/dev/null 2>&1 & PID=$!
  wait_http $U/healthz
}
machine
serve 1
get() { sed -n "s/.*\"$1\": \"\(.*\)\".*/\1/p" "$DATA/bootstrap.json"; }
SK=$(get secretKey); TOKEN=$(get operatorToken); ORG=$(get organizationId)
# an enterprise organization: the Free plan's 10,000 calls a month would stop the benchmark with 429s
enterprise $U "$DATA"
posts_table $U "$DATA"
seed_posts $U "$SK" "$N"
curl -sf -H "X-API-Key: $SK" "$U/v1/data/posts?limit=100&select=title" | json_ids > "$WORK/ids.txt"
stop
warm() { curl -sf -H "X-API-Key: $SK" "$U/v1/data/posts?andFilters=%7B%22status%22%3A%22published%22%7D&sortBy=createdAt&sortDirection=desc&limit=20" >/dev/null; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
RESULTS=$WORK/meter-results.txt; : > "$RESULTS"
# measure NAME MODE WRK-ARGS...: like bench (lib.sh), plus the server's CPU microseconds per request
measure() {
  local name=$1 mode=$2 q k out c0 c1 n rps; shift 2
  q=$(wait_idle)
  c0=$(cpu_ticks)
  out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "$@") || { echo "FAILED $name: wrk exited $?" >&2; echo "$out" >&2; exit 1; }
  c1=$(cpu_ticks)
  wrk_check "$name" "$out"
  n=$(awk '/requests in/{print $1}' <<<"$out"); rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
  local us=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')
  printf '%-28s metering=%s rps=%-9s p50=%-9s p99=%-9s cpu_us_per_req=%-6s non2xx=%s idle_before=%s%%\n' "$name" "$mode" "$rps" \
    "$(awk '$1=="50%"{print $2}' <<<"$out")" "$(awk '$1=="99%"{print $2}' <<<"$out")" "$us" \
    "$(awk '/Non-2xx/{print $NF}' <<<"$out" | grep . || echo 0)" "$q"
  echo "$name $mode $rps $us" >> "$RESULTS"
}
for r in $(seq "$ROUNDS"); do
  for m in 1 0; do
    serve $m
    warm
    measure get_by_id $m -s bench/data.lua $U -- get "$SK" "$WORK/ids.txt"
    measure list_published $m -s bench/data.lua $U -- list "$SK"
    echo "server_peak_rss_mb metering=$m $(peak_rss_mb "$PID")"
    stop
  done
done
median() { sort -g | awk '{a[NR]=$1} END{print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for w in get_by_id list_published; do
  on=$(awk -v w=$w '$1==w && $2==1{print $3}' "$RESULTS" | median); off=$(awk -v w=$w '$1==w && $2==0{print $3}' "$RESULTS" | median)
  con=$(awk -v w=$w '$1==w && $2==1{print $4}' "$RESULTS" | median); coff=$(awk -v w=$w '$1==w && $2==0{print $4}' "$RESULTS" | median)
  # each round's on/off pair, taken one after the other: the median of their ratios
  paired=$(awk -v w=$w '$1==w{if ($2==1) on=$3; else print (on - $3) * 100 / $3}' "$RESULTS" | median)
  awk -v w=$w -v on="$on" -v off="$off" -v con="$con" -v coff="$coff" -v p="$paired" 'BEGIN{printf "summary %-16s median rps on=%.0f off=%.0f (%+.1f%%, paired rounds %+.1f%%)  cpu us/req on=%.2f off=%.2f (%+.1f%%)\n", w, on, off, (on - off) * 100 / off, p, con, coff, (con - coff) * 100 / coff}'
done
serve 1
sleep 2
rows=$(curl -sf -H "Authorization: Bearer $TOKEN" "$U/admin/v1/usage/summary?organizationId=$ORG" | grep -o '"metric":"api_call","used":[0-9]*' | grep -o '[0-9]*$')
echo "api_call_rows_this_month $rows"
stop
if [ -x "$BUILD/test_meter" ]; then "$BUILD/test_meter" 2>&1 | grep -E '^(memory|request path)' || true; fi
