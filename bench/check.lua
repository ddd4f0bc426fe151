-- check.lua: the done() every wrk script of bench/ loads (dofile, from the repository root where the
-- scripts run). A run with an answer that is not 2xx, or a socket error, fails (exit 1) instead of giving a
-- rate: wrk counts statuses above 399 in errors.status, and these requests never get a 3xx.
function done(summary, latency, requests)
  local e = summary.errors
  if e.status + e.connect + e.read + e.write + e.timeout > 0 then
    io.stderr:write(string.format("FAILED: %d of %d answers not 2xx; socket errors: connect %d, read %d, write %d, timeout %d\n",
      e.status, summary.requests, e.connect, e.read, e.write, e.timeout))
    os.exit(1)
  end
end
