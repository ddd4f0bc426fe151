#!/usr/bin/env bash
# run-data.sh: the data API workloads of the data API issue against build/basalt on a fresh data
# directory: 100,000 posts (status, createdAt) index, then create, get by id, indexed list, list with
# select, update; one line per measure (same format as run-parse.sh). Usage: bench/run-data.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${N:-100000}
scripts/build.sh Release >/dev/null
DATA=$(mktemp -d "$WORK/data.XXXX")
build/basalt serve --listen 127.0.0.1:18093 --data "$DATA" --log-level warn >/dev/null 2>&1 & PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
wait_http http://127.0.0.1:18093/healthz
SK=$(bootstrap_get "$DATA" secretKey)
enterprise http://127.0.0.1:18093 "$DATA"
posts_table http://127.0.0.1:18093 "$DATA"
machine
t0=$(date +%s.%N)
seed_posts http://127.0.0.1:18093 "$SK" "$N"
t1=$(date +%s.%N)
echo "seed_${N}_batch1000 seconds=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")"
curl -sf -H "X-API-Key: $SK" "http://127.0.0.1:18093/v1/data/posts?limit=100&select=title" | json_ids > "$WORK/ids.txt"
U=http://127.0.0.1:18093
bench create_post -s bench/data.lua $U -- create "$SK"
bench get_by_id -s bench/data.lua $U -- get "$SK" "$WORK/ids.txt"
# one request of each list shape first, as an app's first page view would: its total is counted once
# (~0.1 s over 100k+ matching rows) and from then on kept exact by every write (docs/data-api.md "Totals")
warm() { curl -sf -H "X-API-Key: $SK" "$U$LIST_PATH$1" >/dev/null; }
warm ""; warm "&select=title,views"
bench list_published_idx_status_createdAt -s bench/data.lua $U -- list "$SK"
bench list_published_select_title_views -s bench/data.lua $U -- select "$SK"
bench update_views_100ids -s bench/data.lua $U -- update "$SK" "$WORK/ids.txt"
echo "server_peak_rss_mb $(peak_rss_mb $PID)"
