#!/usr/bin/env bash
# run-mixed.sh: lists that are read while the table is written (issue 13), against build/basalt on a fresh
# data directory with N (100,000) posts and the {status: 1, createdAt: -1} index. Loopback only, bounded in
# time (about (RATES + 1) x (DUR + 2 s) plus the seed).
#  1. The indexed timeline list (status = published, newest first, 20 a page, with its exact total) under
#     wrk -c$CONN while bench/paced.mjs writes matching records (creates of published posts and updates of
#     published posts, half each) at each rate of RATES writes/s, open loop: one line per rate with the
#     list's req/s, p50, p99 and the writer's achieved rate, p50 and p99 (measured from each write's
#     scheduled moment). Rate 0 is the list alone.
#  2. An "app" mix: 64 connections split 12 get by id / 22 list / 23 create / 7 update, one wrk each, run
#     together: per-operation req/s, p50 and p99. wrk reports latency per process only, so the mix is set by
#     connections, chosen so the shares served come out near 35 / 35 / 20 / 10 % on the 2-core machine of
#     BENCHMARKS.md (reads 70 %, creates 20 %, updates 10 %); the shares actually served are printed.
# Then the list's total is checked against the rows themselves (the last page) and the peak RSS printed.
# Every answer must be 2xx (bench/lib.sh): a failure stops the script.
# Usage: bench/run-mixed.sh   (RATES="0 20 100 500", N=100000, DUR=10s, CONN=64)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${N:-100000}; RATES=${RATES:-0 20 100 500}
scripts/build.sh Release >/dev/null
DATA=$(mktemp -d "$WORK/mixed.XXXX")
U=http://127.0.0.1:18094
build/basalt serve --listen 127.0.0.1:18094 --data "$DATA" --log-level warn >/dev/null 2>&1 & PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
wait_http $U/healthz
SK=$(bootstrap_get "$DATA" secretKey)
enterprise $U "$DATA"
posts_table $U "$DATA"
machine
t0=$(date +%s.%N); seed_posts $U "$SK" "$N"; t1=$(date +%s.%N)
echo "seed_${N}_batch1000 seconds=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")"
curl -sf -H "X-API-Key: $SK" "$U${LIST_PATH%limit=20}limit=100" | json_ids > "$DATA/published.txt"
curl -sf -H "X-API-Key: $SK" "$U/v1/data/posts?limit=100&select=title" | json_ids > "$DATA/ids.txt"
curl -sf -H "X-API-Key: $SK" "$U$LIST_PATH" >/dev/null # the shape's first list: its total is counted once, then kept

secs=${DUR%s}
for rate in $RATES; do
  q=$(wait_idle)
  wpid=
  if [ "$rate" -gt 0 ]; then
    node bench/paced.mjs $U "$SK" "$rate" "$((secs + 1))" "$DATA/published.txt" > "$DATA/writer.txt" & wpid=$!
    sleep 0.5
  fi
  out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency -s bench/data.lua $U -- list "$SK") ||
    { echo "FAILED list at $rate writes/s: wrk exited $?" >&2; echo "$out" >&2; exit 1; }
  wrk_check "list_at_${rate}_writes_per_s" "$out"
  writer="writer=none"
  if [ -n "$wpid" ]; then
    wait "$wpid" || { echo "FAILED: the writer at $rate/s had answers that were not 2xx: $(cat "$DATA/writer.txt")" >&2; exit 1; }
    writer="writer_target=$rate $(cat "$DATA/writer.txt")"
  fi
  printf '%-28s rps=%-9s p50=%-9s p99=%-9s %s idle_before=%s%%\n' "list_at_${rate}_writes_per_s" \
    "$(wrk_field "$out" rps)" "$(wrk_field "$out" p50)" "$(wrk_field "$out" p99)" "$writer" "$q"
done

# the app mix: four wrk processes at once, one operation each
q=$(wait_idle)
declare -A CONNS=([get]=12 [list]=22 [create]=23 [update]=7)
for op in get list create update; do
  wrk -t1 -c"${CONNS[$op]}" -d"$DUR" --latency -s bench/data.lua $U -- "$op" "$SK" "$DATA/ids.txt" > "$DATA/app-$op.txt" 2>&1 &
done
wait_ok=0; for job in $(jobs -p); do [ "$job" = "$PID" ] && continue; wait "$job" || wait_ok=1; done
total=0
for op in get list create update; do
  wrk_check "app_$op" "$(cat "$DATA/app-$op.txt")"
  total=$(awk -v t="$total" -v r="$(wrk_field "$(cat "$DATA/app-$op.txt")" rps)" 'BEGIN{print t + r}')
done
[ "$wait_ok" = 0 ] || { echo "FAILED: a wrk of the app mix exited non-zero" >&2; exit 1; }
for op in get list create update; do
  o=$(cat "$DATA/app-$op.txt")
  printf '%-28s rps=%-9s p50=%-9s p99=%-9s share=%s%% conns=%s idle_before=%s%%\n' "app_mix_$op" "$(wrk_field "$o" rps)" \
    "$(wrk_field "$o" p50)" "$(wrk_field "$o" p99)" "$(awk -v r="$(wrk_field "$o" rps)" -v t="$total" 'BEGIN{printf "%.0f", 100 * r / t}')" \
    "${CONNS[$op]}" "$q"
done
echo "app_mix_total                rps=$total"

# the total the list answers against the rows of its last page
T=$(curl -sf -H "X-API-Key: $SK" "$U$LIST_PATH" | grep -o '"total":[0-9]*' | cut -d: -f2)
P=$(( (T + 99) / 100 ))
ROWS=$(curl -sf -H "X-API-Key: $SK" "$U${LIST_PATH%limit=20}limit=100&page=$P&select=title" | json_ids | wc -l)
[ $(( (P - 1) * 100 + ROWS )) -eq "$T" ] || { echo "FAILED: the list says $T records, its pages hold $(( (P - 1) * 100 + ROWS ))" >&2; exit 1; }
echo "list_total_exact             total=$T rows_counted=$(( (P - 1) * 100 + ROWS ))"
echo "server_peak_rss_mb $(peak_rss_mb $PID)"
