-- auth.lua: `wrk -s auth.lua URL -- MODE KEY EMAIL PASSWORD ACCESS_TOKEN`; MODE: signin | me
local mode, key, email, password, token
function init(args) mode, key, email, password, token = args[1], args[2], args[3], args[4], args[5] end
request = function()
  if mode == "signin" then
    return wrk.format("POST", "/v1/auth/email/signin", {["X-API-Key"] = key, ["Content-Type"] = "application/json"},
      '{"email":"' .. email .. '","password":"' .. password .. '"}')
  end
  return wrk.format("GET", "/v1/auth/me", {["X-API-Key"] = key, ["Authorization"] = "Bearer " .. token})
end
-- A run with an answer that is not 2xx, or a socket error, fails (exit 1) instead of giving a rate: wrk
-- counts statuses above 399 in errors.status, and these requests never get a 3xx.
function done(summary, latency, requests)
  local e = summary.errors
  if e.status + e.connect + e.read + e.write + e.timeout > 0 then
    io.stderr:write(string.format("FAILED: %d of %d answers not 2xx; socket errors: connect %d, read %d, write %d, timeout %d\n",
      e.status, summary.requests, e.connect, e.read, e.write, e.timeout))
    os.exit(1)
  end
end
