#!/usr/bin/env bash
# start-pg.sh: a PostgreSQL 15 server for a test that needs one more than tests/pg/with-pg.sh gives it
# (e.g. a second database server registered as a cluster). Same setup as with-pg.sh: Debian's
# postgresql-15 binaries, initdb in a temporary directory, a free port on 127.0.0.1, trust
# authentication, fsync off, an empty database "basalt"; as root the server runs as the postgres user.
#   start-pg.sh            starts it and prints two lines: its URL, then the directory to stop
#   start-pg.sh stop DIR   stops that server and removes its files
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd "$dir" && runuser -u postgres -- "$@"); else "$@"; fi; }
if [ "${1:-}" = stop ]; then
  dir="${2:?usage: $0 stop DIR}"
  case "$dir" in /tmp/basalt-pg.*) ;; *) echo "start-pg.sh: not a server of start-pg.sh: $dir" >&2; exit 2 ;; esac
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi
[ -x "$bin/initdb" ] || { echo "start-pg.sh: $bin/initdb not found (scripts/install-deps.sh --test installs postgresql-15)" >&2; exit 1; }
dir="$(mktemp -d /tmp/basalt-pg.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
trap 'as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$dir"' ERR
as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" start >/dev/null
as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres basalt
echo "postgresql://postgres@127.0.0.1:$port/basalt"
echo "$dir"
