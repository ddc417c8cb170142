-- KEYS: offense. ARGV: end of the client's ban (Unix ms, '+inf' while permanent, '0' when it has just ended),
-- ForgetOffensesAfter in ms. The level is forgotten ForgetOffensesAfter after the ban ends, so when the end moves
-- (a change, a lift) its expiry moves with it; a client with no level has nothing to keep.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '+inf' then
  redis.call('PERSIST', KEYS[1])
  return 1
end
local now = now_ms()
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[1]) - now, 0) + tonumber(ARGV[2]))
return 1
