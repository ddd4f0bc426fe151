#!/usr/bin/env bash
# run-pg.sh SCRIPT [ARGS...]: runs a benchmark script of bench/ (run-data.sh, run-mixed.sh ...) with Basalt's
# control store and environment data on a PostgreSQL 15 server of its own, set up as
# ../shared/bench/run-parse.sh sets up the peer's (Debian's postgresql-15 binaries, initdb --locale=C.UTF-8,
# the server's default durability: fsync and synchronous_commit on), on 127.0.0.1:$PGPORT (default 55433,
# beside the peer's 55432). The script's servers get BASALT_CONTROL_STORE and BASALT_ENV_STORE; at the end
# it prints the server's version and the most connections Basalt held at once (sampled every 0.5 s), then
# stops and removes the server. Needs root (the server runs as the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 bench/run-data.sh|bench/run-mixed.sh [ARGS...]" >&2; exit 2; }
PGPORT=${PGPORT:-55433}
bin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
[ -n "$bin" ] || { echo "run-pg.sh: postgresql-15 is missing (scripts/install-deps.sh --test installs it)" >&2; exit 1; }
root=$(mktemp -d /tmp/basalt-bench-pg.XXXXXX)
chown postgres "$root"
as_pg() { (cd "$root" && runuser -u postgres -- "$@"); }
sampler=
stop() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  as_pg "$bin/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap stop EXIT
as_pg "$bin/initdb" -D "$root/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nmax_connections = 200\n" \
  "$PGPORT" "$root" >> "$root/data/postgresql.conf"
as_pg "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w start >/dev/null
as_pg "$bin/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres basalt
url="postgresql://postgres@127.0.0.1:$PGPORT/basalt"
# the most connections held at once by clients other than this sampler
(peak=0; while sleep 0.5; do
  n=$(psql "$url" -qAtc "SELECT count(*) - 1 FROM pg_stat_activity WHERE backend_type = 'client backend'" 2>/dev/null || echo 0)
  [ "$n" -gt "$peak" ] && { peak=$n; echo "$peak" > "$root/peak"; }
done) & sampler=$!
BASALT_CONTROL_STORE="$url" BASALT_ENV_STORE="$url" "$@"
echo "postgres $("$bin/postgres" -V | awk '{print $3}') on 127.0.0.1:$PGPORT (fsync on, synchronous_commit on)"
echo "postgres_connections_peak $(cat "$root/peak" 2>/dev/null || echo 0)"
