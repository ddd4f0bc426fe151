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
dofile("bench/check.lua") -- done(): fails the run on any answer that is not 2xx
