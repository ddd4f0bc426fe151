#!/usr/bin/env bash
# run-compare.sh: a paired before/after measure of the data API's get-by-id and indexed-list workloads
# (those of run-data.sh) for two server binaries, each on its own data directory filled the same way
# (schemas only migrate forward, so they cannot share one), served alternately A/B/A/B... for ROUNDS
# rounds so that drift on a shared machine hits both alike; access log off. Prints one line per measure
# and the medians with the paired difference.
# Usage: bench/run-compare.sh OLD_BINARY NEW_BINARY   (e.g. a Release build of an earlier commit, build/basalt)
# WORKLOADS (default "get list"; also create, update) picks the measures; ARGS_OLD / ARGS_NEW add serve flags
# to one side (e.g. the same binary twice with ARGS_NEW="--header-memory 16384").
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
[ $# -eq 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
N=${N:-20000}; ROUNDS=${ROUNDS:-5}
BINS=("$1" "$2"); NAMES=(old new); WORKLOADS=${WORKLOADS:-get list}
read -r -a XARGS0 <<<"${ARGS_OLD:-}"; read -r -a XARGS1 <<<"${ARGS_NEW:-}"
DIRS=(); KEYS=(); PID=
U=http://127.0.0.1:18098
stop() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=; }
trap 'stop || true; rm -rf "${DIRS[@]}"' EXIT
serve() { # INDEX
  local -n extra="XARGS$1"
  "${BINS[$1]}" serve --listen 127.0.0.1:18098 --data "${DIRS[$1]}" --log-level warn "${extra[@]}" >/dev/null 2>&1 & PID=$!
  wait_http $U/healthz
}
fill() { # INDEX: an enterprise organization (no quota stops the run), posts with an index, N records
  local d=${DIRS[$1]} sk
  sk=$(bootstrap_get "$d" secretKey)
  enterprise $U "$d"
  posts_table $U "$d"
  seed_posts $U "$sk" "$N"
  curl -sf -H "X-API-Key: $sk" "$U/v1/data/posts?limit=100&select=title" | json_ids > "$d/ids.txt"
  KEYS[$1]=$sk
}
machine
for i in 0 1; do DIRS[$i]=$(mktemp -d "$WORK/cmp.XXXX"); serve $i; fill $i; stop; done
RESULTS=$WORK/compare-results.txt; : > "$RESULTS"
for r in $(seq "$ROUNDS"); do
  for i in 0 1; do
    serve $i
    curl -sf -H "X-API-Key: ${KEYS[$i]}" "$U/v1/data/posts?andFilters=%7B%22status%22%3A%22published%22%7D&sortBy=createdAt&sortDirection=desc&limit=20" >/dev/null
    for w in $WORKLOADS; do
      line=$(bench "${w}_${NAMES[$i]}" -s bench/data.lua $U -- $w "${KEYS[$i]}" "${DIRS[$i]}/ids.txt")
      echo "$line"
      echo "$w ${NAMES[$i]} $(grep -o 'rps=[0-9.]*' <<<"$line" | cut -d= -f2)" >> "$RESULTS"
    done
    stop
  done
done
median() { sort -g | awk '{a[NR]=$1} END{print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for w in $WORKLOADS; do
  old=$(awk -v w=$w '$1==w && $2=="old"{print $3}' "$RESULTS" | median); new=$(awk -v w=$w '$1==w && $2=="new"{print $3}' "$RESULTS" | median)
  paired=$(awk -v w=$w '$1==w{if ($2=="old") o=$3; else print ($3 - o) * 100 / o}' "$RESULTS" | median)
  awk -v w=$w -v o="$old" -v n="$new" -v p="$paired" 'BEGIN{printf "summary %-5s median rps old=%.0f new=%.0f (%+.1f%%, paired rounds %+.1f%%)\n", w, o, n, (n - o) * 100 / o, p}'
done
