-- data.lua: the data API workloads. `wrk -s data.lua URL -- MODE KEY [IDS_FILE]`
-- MODE: create | get | list | select | update
local mode, key, ids, n = "get", "", {}, 0
local st = {"draft", "published", "archived"}
local lorem = string.rep("lorem ipsum dolor sit amet ", 8)
function init(args)
  mode, key = args[1], args[2]
  if args[3] then for l in io.lines(args[3]) do ids[#ids + 1] = l end end
  n = math.random(1000)
end
request = function()
  n = n + 1
  local h = {["X-API-Key"] = key, ["Content-Type"] = "application/json"}
  if mode == "create" then
    return wrk.format("POST", "/v1/data/posts", h, '{"title":"Post number ' .. n .. '","content":"' .. lorem ..
      '","status":"' .. st[n % 3 + 1] .. '","views":' .. n .. ',"tags":["alpha","beta"]}')
  elseif mode == "get" then
    return wrk.format("GET", "/v1/data/posts/" .. ids[n % #ids + 1], h)
  elseif mode == "list" then
    return wrk.format("GET", "/v1/data/posts?andFilters=%7B%22status%22%3A%22published%22%7D&sortBy=createdAt&sortDirection=desc&limit=20", h)
  elseif mode == "select" then
    return wrk.format("GET", "/v1/data/posts?andFilters=%7B%22status%22%3A%22published%22%7D&sortBy=createdAt&sortDirection=desc&limit=20&select=title,views", h)
  else
    return wrk.format("PATCH", "/v1/data/posts/" .. ids[n % #ids + 1], h, '{"views":' .. n .. '}')
  end
end
dofile("bench/check.lua") -- done(): fails the run on any answer that is not 2xx
