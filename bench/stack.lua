-- stack.lua: requests for the three stack handlers. `wrk -s stack.lua URL -- echo|items`
local mode, n = "items", 0
function init(args) mode = args[1] or "items" end
local doc = '{"title":"Post number 1","status":"published","views":1234,"tags":["alpha","beta"],"content":"'
  .. string.rep("x", 1024 - 100) .. '"}'
request = function()
  n = n + 1
  if mode == "echo" then
    return wrk.format("POST", "/echo", {["Content-Type"] = "application/json"}, doc)
  end
  return wrk.format("GET", string.format("/items/item%05d", (n * 7919) % 10000))
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
