-- ARGV: prefix, now, id, owner, expires
local now = tonumber(ARGV[2])
local id, owner = ARGV[3], ARGV[4]
local key = wkey(id)
if redis.call('EXISTS', key) == 0 then return { 'notfound' } end
local f = redis.call('HMGET', key, 'lo', 'le')
if f[1] and f[1] ~= '' and f[1] ~= owner then
  if leased(f[1], f[2], now) then return { 'held' } end
  redis.call('SREM', P .. 'lease:' .. f[1], id)
end
redis.call('HSET', key, 'lo', owner, 'le', ARGV[5])
redis.call('HINCRBY', key, 'v', 1)
redis.call('SADD', P .. 'lease:' .. owner, id)
return { 'ok', rec(id) }
