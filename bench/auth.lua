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
dofile("bench/check.lua") -- done(): fails the run on any answer that is not 2xx
