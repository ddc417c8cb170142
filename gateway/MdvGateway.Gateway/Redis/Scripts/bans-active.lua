-- KEYS: data, expiry. Drops expired bans; returns the live ones.
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, target in ipairs(expired) do redis.call('HDEL', KEYS[1], target) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return redis.call('HVALS', KEYS[1])
