# bench/lib.sh: shared pieces of the benchmark scripts (sourced). One measure = one wrk run, printed as
# one line in the same format as ../shared/bench/run-parse.sh so the two can be read side by side.
# Every measure must be all 2xx: a run with a non-2xx answer or a socket error stops the script (exit 1)
# instead of printing a rate. Each line records the machine's idle share over the second before it.
THREADS=${THREADS:-2}; CONN=${CONN:-64}; DUR=${DUR:-10s}
WORK=${WORK:-${TMPDIR:-/tmp}/basalt-bench}
mkdir -p "$WORK"

idle() { # % CPU idle over 1 s, whole machine
  local a b t=0 k; a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  for k in 1 2 3 4 5 6 7 8; do t=$((t + b[k] - a[k])); done
  echo $(( 100 * (b[4] + b[5] - a[4] - a[5]) / (t > 0 ? t : 1) ))
}

# wait_idle: the idle share (%) once it reaches 90 % (or after 60 tries: then the last one, and the line
# says so)
wait_idle() {
  local q k; for k in $(seq 60); do q=$(idle); [ "$q" -ge 90 ] && break; done
  echo "$q"
}

# wrk_field OUTPUT WHAT: one number of a wrk report (rps, p50, p99, non2xx, socket)
wrk_field() {
  case $2 in
    rps) awk '/^Requests\/sec/{print $2}' <<<"$1" ;;
    p50|p99) awk -v p="${2#p}%" '$1==p{print $2}' <<<"$1" ;;
    requests) awk '/requests in/{print $1}' <<<"$1" ;;
    non2xx) awk '/Non-2xx/{print $NF}' <<<"$1" | grep . || echo 0 ;;
    socket) awk '/Socket errors/{s=0; for (i=3; i<=NF; i+=2) {gsub(",", "", $(i+1)); s+=$(i+1)} print s}' <<<"$1" | grep . || echo 0 ;;
  esac
}

# wrk_check NAME OUTPUT: fails loudly (exit 1) when a measured answer was not 2xx or a socket failed
wrk_check() {
  local bad=$(( $(wrk_field "$2" non2xx) + $(wrk_field "$2" socket) ))
  if [ "$bad" -ne 0 ] || ! grep -q '^Requests/sec' <<<"$2"; then
    echo "FAILED $1: $(wrk_field "$2" non2xx) non-2xx answers, $(wrk_field "$2" socket) socket errors; wrk said:" >&2
    echo "$2" >&2
    exit 1
  fi
}

# bench NAME WRK-ARGS... : waits (<= 60 s) for an idle machine, runs wrk, checks every answer was 2xx,
# prints one line.
bench() {
  local name=$1 q out; shift
  q=$(wait_idle)
  out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "$@") || { echo "FAILED $name: wrk exited $?" >&2; echo "$out" >&2; exit 1; }
  wrk_check "$name" "$out"
  printf '%-36s rps=%-9s p50=%-9s p99=%-9s non2xx=0 idle_before=%s%%\n' "$name" \
    "$(wrk_field "$out" rps)" "$(wrk_field "$out" p50)" "$(wrk_field "$out" p99)" "$q"
}

# json_ids: the record ids of a JSON answer on stdin, one a line (either spelling: `"id":"…"` as SQLite
# answers a select, `"id": "…"` as PostgreSQL's jsonb writes it)
json_ids() { grep -o '"id": *"[0-9a-f]*"' | sed 's/.*"\([0-9a-f]*\)"$/\1/'; }

peak_rss_mb() { awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$1/status"; }

wait_http() { # URL: until it answers 200 (<= 10 s)
  local k; for k in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; return 1
}

# bootstrap_get DATA FIELD: one value of DATA/bootstrap.json
bootstrap_get() { sed -n "s/.*\"$2\": \"\(.*\)\".*/\1/p" "$1/bootstrap.json"; }

# enterprise URL DATA: puts the bootstrap organization on Enterprise (no monthly API-call quota: the Free
# plan's 10,000 calls would turn a measure into 429s), then waits out the key cache (the plan travels with
# the API key, trusted for --key-cache-ms, 1 s by default).
enterprise() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $(bootstrap_get "$2" operatorToken)" \
    -H 'Content-Type: application/json' -d '{"plan":"enterprise"}' \
    "$1/admin/v1/organizations/$(bootstrap_get "$2" organizationId)/plan")
  [ "$code" = 200 ] || { echo "FAILED: cannot put the organization on Enterprise ($code)" >&2; exit 1; }
  sleep 1.2
}

# open_table URL DATA NAME: an empty table that publishable keys may list (so a keyed GET of it is a 200)
open_table() {
  curl -sf -H "Authorization: Bearer $(bootstrap_get "$2" operatorToken)" -H 'Content-Type: application/json' \
    -d "{\"tableName\":\"$3\",\"permissions\":{\"guest\":{\"list\":true,\"read\":true}}}" \
    "$1/admin/v1/projects/$(bootstrap_get "$2" projectId)/environments/dev/tables" >/dev/null ||
    { echo "FAILED: cannot create table $3" >&2; exit 1; }
}

# posts_table URL DATA: the data API workloads' table (schema title/status/views) with the index
# {status: 1, createdAt: -1} that serves the timeline list
posts_table() {
  local admin="$1/admin/v1/projects/$(bootstrap_get "$2" projectId)/environments/dev/tables" auth="Authorization: Bearer $(bootstrap_get "$2" operatorToken)"
  curl -sf -H "$auth" -H 'Content-Type: application/json' -d '{"tableName":"posts","schema":{"bsonType":"object","required":["title"],"properties":{"title":{"bsonType":"string"},"status":{"bsonType":"string"},"views":{"bsonType":"int"}}}}' "$admin" >/dev/null &&
  curl -sf -H "$auth" -H 'Content-Type: application/json' -d '{"indexesToAdd":[{"name":"status_createdAt","fields":{"status":1,"createdAt":-1}}]}' "$admin/posts/indexes" >/dev/null ||
    { echo "FAILED: cannot create the posts table" >&2; exit 1; }
}

# seed_posts URL KEY N: N posts in batches of 1,000 (status draft/published/archived in turn)
seed_posts() {
  node -e '
const [url, key, n] = [process.argv[1], process.argv[2], +process.argv[3]], st = ["draft", "published", "archived"];
const lorem = "lorem ipsum dolor sit amet ".repeat(8);
(async () => { for (let a = 0; a < n; a += 1000) {
  const body = []; for (let i = a; i < Math.min(n, a + 1000); i++) body.push({ title: "Post number " + i, content: lorem, status: st[i % 3], views: i, tags: ["alpha", "beta"] });
  const r = await fetch(url, { method: "POST", headers: { "X-API-Key": key, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(await r.text()); } })();' "$1/v1/data/posts" "$2" "$3"
}

# LIST_PATH: the timeline list of the data workloads (indexed: status = published, newest first, 20 a page)
LIST_PATH='/v1/data/posts?andFilters=%7B%22status%22%3A%22published%22%7D&sortBy=createdAt&sortDirection=desc&limit=20'

machine() {
  echo "# $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)," \
       "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1,2), wrk -t$THREADS -c$CONN -d$DUR on loopback, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
