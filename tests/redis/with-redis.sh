#!/usr/bin/env bash
# with-redis.sh CMD...: runs CMD with a Redis server of its own (Debian's redis-server, a temporary
# directory, a free port on 127.0.0.1, no persistence) and BASALT_TEST_REDIS_URL naming it, plus
# BASALT_TEST_REDIS_PORT and BASALT_TEST_REDIS_DIR (tests stop and restart it with tests/redis/ctl.sh), then
# stops the server, removes its files and exits with CMD's status.
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
command -v redis-server >/dev/null || { echo "with-redis.sh: redis-server not found (scripts/install-deps.sh --test installs it)" >&2; exit 1; }
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(mktemp -d /tmp/basalt-redis.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export BASALT_TEST_REDIS_PORT="$port" BASALT_TEST_REDIS_DIR="$dir"
stop() {
  "$here/ctl.sh" stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
"$here/ctl.sh" start
export BASALT_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
set +e
"$@"
rc=$?
set -e
exit $rc
