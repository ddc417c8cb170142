-- wrk script: every request names another client in X-Forwarded-For (127.0.0.1, wrk's address, is a trusted
-- proxy in the bench configuration, so the header names the client).
--
--   wrk -tTHREADS ... -s xff-rotate.lua URL -- COUNT SECOND_OCTET ORDER THREADS [STATUS]
--
--   COUNT         number of client addresses, at most 65536: 10.<SECOND_OCTET>.<i / 256>.<i % 256> for i in 0..COUNT-1
--   SECOND_OCTET  0..255; scenario and plain comparator use the same COUNT and ORDER (the same header lengths and
--                 the same pattern), and a different octet only where a ban on the scenario's clients would also
--                 refuse them on the plain route (bans apply on every route)
--   ORDER         "seq": thread t of T sends i = t, t+T, t+2T, ... (all threads together walk every address once per
--                 COUNT requests); "random": a uniformly random address per request (clients fall out of step, so a
--                 run sees clients in every phase of admitted / refused / banned)
--   THREADS       wrk's -t (each thread has its own Lua state and cannot count the others)
--   STATUS        "census" adds a response() callback that counts answers by status (2xx, 429, 403, other) and
--                 prints "census: ..." at the end. It costs wrk CPU on every response, so the measured runs leave it off
--
-- The requests are formatted once in init() and reused: request() costs a table lookup, so the rotation adds little
-- wrk CPU to either side.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(args[1]) or 65536
  local octet = tonumber(args[2]) or 0
  order = args[3] or "seq"
  n_threads = tonumber(args[4]) or 1
  census = args[5] == "census"
  if count < 1 or count > 65536 then error("COUNT must be 1..65536") end
  n = count
  reqs = {}
  for i = 0, count - 1 do
    local ip = string.format("10.%d.%d.%d", octet, math.floor(i / 256), i % 256)
    reqs[i + 1] = wrk.format(nil, nil, { ["X-Forwarded-For"] = ip })
  end
  -- id is set by setup() in the main state and copied into this thread's state before init runs
  next_index = (tonumber(id) or 0) % count
  step = n_threads
  math.randomseed(os.time() + (tonumber(id) or 0) * 7919)
  c2xx, c429, c403, cother = 0, 0, 0, 0
  if census then response = count_response end
end

function request()
  if order == "random" then
    return reqs[math.random(n)]
  end
  local r = reqs[next_index + 1]
  next_index = (next_index + step) % n
  return r
end

function count_response(status, headers, body)
  if status >= 200 and status < 300 then c2xx = c2xx + 1
  elseif status == 429 then c429 = c429 + 1
  elseif status == 403 then c403 = c403 + 1
  else cother = cother + 1 end
end

function done(summary, latency, requests)
  local a, b, c, d = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + (t:get("c2xx") or 0); b = b + (t:get("c429") or 0)
    c = c + (t:get("c403") or 0); d = d + (t:get("cother") or 0)
  end
  if threads[1] and threads[1]:get("census") then
    io.write(string.format("census: 2xx %d 429 %d 403 %d other %d\n", a, b, c, d))
  end
end
