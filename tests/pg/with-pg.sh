#!/usr/bin/env bash
# with-pg.sh CMD...: runs CMD with a PostgreSQL 15 server of its own (Debian's postgresql-15 binaries,
# initdb in a temporary directory, a free port on 127.0.0.1, fsync off) and BASALT_TEST_PG_URL naming an
# empty database on it, then stops the server, removes its files and exits with CMD's status. As root the
# server runs as the postgres user (initdb refuses root).
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || { echo "with-pg.sh: $bin/initdb not found (scripts/install-deps.sh --test installs postgresql-15)" >&2; exit 1; }
dir="$(mktemp -d /tmp/basalt-pg.XXXXXX)"
# As root the server's commands run as postgres, from the server's own directory (the checkout may be
# somewhere the postgres user cannot enter, e.g. under /root).
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd "$dir" && runuser -u postgres -- "$@"); else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
stop() {
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=500" start >/dev/null
as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres basalt
export BASALT_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/basalt"
set +e
"$@"
rc=$?
set -e
exit $rc
