# bench/lib.sh: shared pieces of the benchmark scripts (sourced). One measure = one wrk run, printed as
# one line in the same format as ../shared/bench/run-parse.sh so the two can be read side by side.
THREADS=${THREADS:-2}; CONN=${CONN:-64}; DUR=${DUR:-10s}
WORK=${WORK:-${TMPDIR:-/tmp}/basalt-bench}
mkdir -p "$WORK"

idle() { # % CPU idle over 1 s, whole machine
  local a b t=0 k; a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  for k in 1 2 3 4 5 6 7 8; do t=$((t + b[k] - a[k])); done
  echo $(( 100 * (b[4] + b[5] - a[4] - a[5]) / (t > 0 ? t : 1) ))
}

# bench NAME WRK-ARGS... : waits (<= 60 s) for an idle machine, runs wrk, prints one line.
bench() {
  local name=$1 q k out; shift
  for k in $(seq 60); do q=$(idle); [ "$q" -ge 90 ] && break; done
  out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "$@")
  printf '%-36s rps=%-9s p50=%-9s p99=%-9s non2xx=%s errors=%s idle_before=%s%%\n' "$name" \
    "$(awk '/^Requests\/sec/{print $2}' <<<"$out")" "$(awk '$1=="50%"{print $2}' <<<"$out")" \
    "$(awk '$1=="99%"{print $2}' <<<"$out")" "$(awk '/Non-2xx/{print $NF}' <<<"$out" | grep . || echo 0)" \
    "$(grep -o 'errors: .*' <<<"$out" | head -1 | grep . || echo none)" "$q"
}

peak_rss_mb() { awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$1/status"; }

wait_http() { # URL: until it answers 200 (<= 10 s)
  local k; for k in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; return 1
}

machine() {
  echo "# $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)," \
       "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1,2), wrk -t$THREADS -c$CONN -d$DUR on loopback"
}
