-- KEYS: data, expiry. ARGV: target, ban json, expiry score, channel, message, mode.
-- Mode 0 writes; 1 keeps a longer ban that already stands (returns 0); 2 replaces only a ban that still stands
-- (returns 0 when it was lifted or has expired, so a change racing a lift never brings the ban back).
if ARGV[6] == '1' then
  local current = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if current then
    if current == 'inf' then return 0 end
    if ARGV[3] ~= '+inf' and tonumber(current) >= tonumber(ARGV[3]) then return 0 end
  end
elseif ARGV[6] == '2' then
  local current = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if not current or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
  if current ~= 'inf' and tonumber(current) <= now_ms() then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
