#!/usr/bin/env bash
# ctl.sh start|stop: starts or stops the Redis server of tests/redis/with-redis.sh (BASALT_TEST_REDIS_PORT,
# BASALT_TEST_REDIS_DIR), so a test can take Redis away mid-run and bring it back (empty: no persistence).
# start returns once the server answers PING; stop once it has exited.
set -euo pipefail
port="${BASALT_TEST_REDIS_PORT:?run under tests/redis/with-redis.sh}"
dir="${BASALT_TEST_REDIS_DIR:?run under tests/redis/with-redis.sh}"
case "${1:-}" in
  start)
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    for _ in $(seq 1 100); do
      redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG && exit 0
      sleep 0.05
    done
    echo "ctl.sh: redis-server on port $port did not answer; log:" >&2
    cat "$dir/redis.log" >&2 || true
    exit 1 ;;
  stop)
    [ -f "$dir/redis.pid" ] || exit 0
    pid="$(cat "$dir/redis.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || { rm -f "$dir/redis.pid"; exit 0; }
      sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/redis.pid" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
