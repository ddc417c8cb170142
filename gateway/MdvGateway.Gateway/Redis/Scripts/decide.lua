-- The rate-limit engine's one script: decides a batch of operations for any mix of clients and policies in one
-- atomic call. Every timestamp, score and expiry comes from Redis's clock (TIME), read once per call, so nodes
-- whose clocks disagree share one exact limit.
--
-- A limit's window is a hash of sub-window counters: field = floor(ms / granularity), value = requests counted in
-- it. A request at `now` counts every field from floor((now - window) / granularity) on, so an admission holds
-- its permit for at least the window and at most the window plus one granularity: never more than the limit in any
-- interval of one window, and memory bounded by the number of sub-windows, not by the limit.
--
-- ARGV header: 1 call tag (unique across nodes and calls, for strike members), 2 reserve-ahead in ms,
-- 3 strikes before a ban, 4 strike window ms, 5 forget offenses after ms, 6 offenders horizon ms,
-- 7 most offenders kept per bucket, 8 number of ban durations D, 9..8+D the ban durations in ms.
-- Then the operations, each an opcode and its arguments; KEYS are consumed in the same order:
--   'd' n m reserve strike [client]  + m x (limit, window ms, granularity ms)
--       decide n requests of one client against m limits (all must admit); strike=1 counts the refused ones as
--       strikes (KEYS: m windows, then strikes, offense, banned, offenders)
--   's' count client                 strikes counted by a node on its own (KEYS: strikes, offense, banned, offenders)
--   'g' m + m x (field, count)       give back unused reserved permits (KEYS: m windows)
-- Returns { now, per op: 'd' -> admitted, reserved, strikes, ban level, ban ms, m x (count before, retry ms,
-- reserve field); 's' -> strikes, ban level, ban ms; 'g' -> given back }.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local tag = ARGV[1]
local reserve_for = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local strike_window = tonumber(ARGV[4])
local forget_after = tonumber(ARGV[5])
local horizon = tonumber(ARGV[6])
local max_offenders = tonumber(ARGV[7])
local rungs = tonumber(ARGV[8])
local p = 9 + rungs
local k = 1
local op_number = 0
local out = { now }

-- Counts a window from its first live sub-window `oldest` on; drops the sub-windows that have left it. Returns the
-- count and the raw fields (read again only for a refusal's Retry-After, so an admission builds no table per field).
local function count_window(key, oldest)
  local flat = redis.call('HGETALL', key)
  local total, stale = 0, nil
  for i = 1, #flat, 2 do
    if tonumber(flat[i]) < oldest then
      stale = stale or {}
      stale[#stale + 1] = flat[i]
    else
      total = total + tonumber(flat[i + 1])
    end
  end
  if stale then
    redis.call('HDEL', key, unpack(stale))
  end
  return total, flat
end

-- How long until `excess` permits have left the window, the oldest sub-windows first: the live fields of `flat`, plus
-- `added` permits counted in sub-window `current` by this call.
local function retry_after(flat, oldest, current, added, excess, window, granularity)
  local live = {}
  for i = 1, #flat, 2 do
    local field = tonumber(flat[i])
    if field >= oldest then
      live[#live + 1] = { field, tonumber(flat[i + 1]) }
    end
  end
  if added > 0 then
    live[#live + 1] = { current, added }
  end
  table.sort(live, function(a, b) return a[1] < b[1] end)
  local freed = 0
  for i = 1, #live do
    freed = freed + live[i][2]
    if freed >= excess then
      return math.max(0, (live[i][1] + 1) * granularity + window - now)
    end
  end
  return window
end

-- Counts `count` strikes against a client; at the threshold, the client's next ban level and its duration.
local function strike(client, count)
  local strikes_key, offense_key, banned_key, offenders_key = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  k = k + 4
  if count <= 0 or redis.call('EXISTS', banned_key) == 1 then
    -- Strikes while a ban this script issued still stands are moot: the ban is issued exactly once.
    return 0, 0, 0
  end
  redis.call('ZREMRANGEBYSCORE', strikes_key, '-inf', now - strike_window)
  local have = redis.call('ZCARD', strikes_key)
  local add = math.min(count, threshold - have)
  local j = 0
  while j < add do
    local members = {}
    local chunk = math.min(add - j, 500)
    for i = 1, chunk do
      members[2 * i - 1] = now
      members[2 * i] = tag .. ':' .. op_number .. ':' .. (j + i)
    end
    redis.call('ZADD', strikes_key, unpack(members))
    j = j + chunk
  end
  have = have + add
  if redis.call('ZADD', offenders_key, now, client) == 1 then
    redis.call('ZREMRANGEBYSCORE', offenders_key, '-inf', now - horizon)
    redis.call('ZREMRANGEBYRANK', offenders_key, 0, -(max_offenders + 1))
  end
  if have < threshold then
    redis.call('PEXPIRE', strikes_key, strike_window)
    return have, 0, 0
  end
  redis.call('DEL', strikes_key)
  local level = redis.call('INCR', offense_key)
  local duration = tonumber(ARGV[8 + math.min(level, rungs)])
  redis.call('PEXPIRE', offense_key, duration + forget_after)
  redis.call('SET', banned_key, level, 'PX', duration)
  return have, level, duration
end

while p <= #ARGV do
  local op = ARGV[p]
  op_number = op_number + 1
  if op == 'd' then
    local n, m, wanted, strikes_on = tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2]), tonumber(ARGV[p + 3]), ARGV[p + 4] == '1'
    local client = nil
    p = p + 5
    if strikes_on then
      client = ARGV[p]
      p = p + 1
    end
    local limits = {}
    local admitted = n
    for l = 1, m do
      local lim = { key = KEYS[k], permit = tonumber(ARGV[p]), window = tonumber(ARGV[p + 1]), granularity = tonumber(ARGV[p + 2]) }
      k = k + 1
      p = p + 3
      lim.oldest = math.floor((now - lim.window) / lim.granularity)
      lim.count, lim.flat = count_window(lim.key, lim.oldest)
      admitted = math.max(0, math.min(admitted, lim.permit - lim.count))
      limits[l] = lim
    end
    local reserved = 0
    if admitted == n and wanted > 0 then
      reserved = wanted
      for l = 1, m do
        reserved = math.max(0, math.min(reserved, math.floor(limits[l].permit / 2) - limits[l].count - admitted))
      end
    end
    local strikes, level, ban_ms = 0, 0, 0
    if strikes_on then
      strikes, level, ban_ms = strike(client, n - admitted)
    end
    out[#out + 1] = admitted
    out[#out + 1] = reserved
    out[#out + 1] = strikes
    out[#out + 1] = level
    out[#out + 1] = ban_ms
    for l = 1, m do
      local lim = limits[l]
      local current = math.floor(now / lim.granularity)
      local reserve_field = math.floor((now + reserve_for) / lim.granularity)
      if admitted > 0 then
        redis.call('HINCRBY', lim.key, current, admitted)
      end
      if reserved > 0 then
        redis.call('HINCRBY', lim.key, reserve_field, reserved)
      end
      if admitted + reserved > 0 then
        local last = current
        if reserved > 0 then last = reserve_field end
        redis.call('PEXPIRE', lim.key, (last + 1) * lim.granularity + lim.window - now)
      end
      local retry = 0
      if admitted < n then
        local excess = lim.count + admitted - lim.permit + 1
        if excess > 0 then
          retry = retry_after(lim.flat, lim.oldest, current, admitted, excess, lim.window, lim.granularity)
        end
      end
      out[#out + 1] = lim.count
      out[#out + 1] = retry
      out[#out + 1] = reserve_field
    end
  elseif op == 's' then
    local count, client = tonumber(ARGV[p + 1]), ARGV[p + 2]
    p = p + 3
    local strikes, level, ban_ms = strike(client, count)
    out[#out + 1] = strikes
    out[#out + 1] = level
    out[#out + 1] = ban_ms
  elseif op == 'g' then
    local m = tonumber(ARGV[p + 1])
    p = p + 2
    local returned = 0
    for l = 1, m do
      local key, field, count = KEYS[k], ARGV[p], tonumber(ARGV[p + 1])
      k = k + 1
      p = p + 2
      local have = tonumber(redis.call('HGET', key, field) or '0')
      local back = math.min(have, count)
      if back > 0 then
        redis.call('HINCRBY', key, field, -back)
        returned = returned + back
      end
    end
    out[#out + 1] = returned
  else
    return redis.error_reply('unknown operation ' .. tostring(op))
  end
end
return out
