#!/usr/bin/env bash
# pg-plans.sh: page and count queries of the PostgreSQL list compiler (docs_pg_sql.c shapes) on N records
# (200,000 by default), with enable_seqscan on and off: the plan and the best of 5 execution times.
# Run: tests/pg/with-pg.sh bench/pg-plans.sh   (docs/operations.md "Environments on PostgreSQL")
set -e
N=${N:-200000}
P="psql -X -q -v ON_ERROR_STOP=1 $BASALT_TEST_PG_URL"
K() { echo "(CASE jsonb_typeof((doc->'$1')) WHEN 'number' THEN (doc->'$1') WHEN 'boolean' THEN CASE WHEN (doc->'$1') = 'true'::jsonb THEN '1'::jsonb ELSE '0'::jsonb END WHEN 'null' THEN NULL ELSE jsonb_insert('[]'::jsonb, '{0}', (doc->'$1')) END)"; }
$P <<SQL
CREATE SCHEMA s;
CREATE TABLE s.t (id TEXT COLLATE "C" PRIMARY KEY, created_by TEXT COLLATE "C" NOT NULL DEFAULT '', created_at TEXT COLLATE "C" NOT NULL, updated_at TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL, doc JSONB GENERATED ALWAYS AS (body::jsonb) STORED);
CREATE INDEX t_c ON s.t (created_at DESC, id DESC);
CREATE INDEX t_u ON s.t (updated_at DESC, id DESC);
CREATE INDEX t_b ON s.t (created_by, created_at DESC);
INSERT INTO s.t (id, created_at, updated_at, body)
 SELECT md5(i::text), to_char(timestamp '2026-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), to_char(timestamp '2026-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
   json_build_object('k', CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, 'n', i % 100, 'r', CASE WHEN i % 2000 = 7 THEN 1 ELSE 0 END, 'title', repeat('x', 60))::text
 FROM generate_series(1, $N) i;
SQL
run() { # label, sql
  for s in on off; do
    t=$($P -c "SET enable_seqscan = $s" -c "EXPLAIN (ANALYZE, FORMAT JSON) $2" -t -A | python3 -c '
import json,sys
d=json.load(sys.stdin)[0]
def walk(n,acc):
  acc.append(n["Node Type"]+(" "+n["Index Name"] if "Index Name" in n else ""))
  for k in n.get("Plans",[]): walk(k,acc)
  return acc
print("%8.2f ms  %s" % (d["Execution Time"], " > ".join(walk(d["Plan"],[]))))')
    # best of 5
    best=""
    for i in 1 2 3 4 5; do
      x=$($P -c "SET enable_seqscan = $s" -c "EXPLAIN (ANALYZE, FORMAT JSON) $2" -t -A | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])')
      best=$(python3 -c "print(min([float(v) for v in '$best $x'.split()]))")
    done
    printf '%-34s seqscan=%-3s best %8.2f ms | %s\n' "$1" "$s" "$best" "$t"
  done
}
bench_all() {
  run "page k=a (50%) sort -createdAt" "SELECT body, to_jsonb(created_at), id FROM s.t WHERE ($(K k) = '[\"a\"]'::jsonb) ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 0"
  run "page r=1 (0.05%) sort -createdAt" "SELECT body, to_jsonb(created_at), id FROM s.t WHERE ($(K r) = '1'::jsonb) ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 0"
  run "page n<30 sort -createdAt" "SELECT body, to_jsonb(created_at), id FROM s.t WHERE ($(K n) < '[null]'::jsonb AND $(K n) < '30'::jsonb) ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 0"
  run "page none sort n" "SELECT body, to_jsonb(created_at), id FROM s.t ORDER BY $(K n) ASC NULLS FIRST, id ASC LIMIT 21 OFFSET 0"
  run "page none sort -createdAt page 100" "SELECT body, to_jsonb(created_at), id FROM s.t ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 2000"
  run "count none" "SELECT count(*) FROM s.t"
  run "count k=a" "SELECT count(*) FROM s.t WHERE ($(K k) = '[\"a\"]'::jsonb)"
  run "count r=1" "SELECT count(*) FROM s.t WHERE ($(K r) = '1'::jsonb)"
  run "get by id" "SELECT body FROM s.t WHERE id = md5('777')"
}
echo "== $N rows, never analyzed (autovacuum may have)"; bench_all
$P -c "CREATE INDEX t_k ON s.t ($(K k) ASC NULLS FIRST, created_at DESC, id DESC)" -c "CREATE INDEX t_r ON s.t ($(K r) ASC NULLS FIRST, created_at DESC, id DESC)" -c "VACUUM ANALYZE s.t"
echo "== with indexes on k and r, analyzed"; bench_all
