-- 1,000 values per request (POST /dashboard/events), with the bench's token (env TOKEN).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local items = {}
for i = 1, 1000 do
  items[i] = '{"board":"loadtest","widget":"loadtest","value":{"value":' .. i .. '}}'
end
wrk.body = '{"events":[' .. table.concat(items, ",") .. ']}'
