-- ARGV: prefix, now, owner, expires, max, type count, types...
local now = tonumber(ARGV[2])
local owner = ARGV[3]
local expires = ARGV[4]
local max = tonumber(ARGV[5])
local types = nil
local nt = tonumber(ARGV[6])
if nt > 0 then
  types = {}
  for k = 1, nt do types[ARGV[6 + k]] = true end
end
local out = {}
local offset = 0
while #out < max do
  local ids = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', ARGV[2], 'LIMIT', offset, 256)
  if #ids == 0 then break end
  offset = offset + #ids
  for _, id in ipairs(ids) do
    if #out >= max then break end
    local key = wkey(id)
    local f = redis.call('HMGET', key, 'lo', 'le', 'ty')
    if not leased(f[1], f[2], now) and (types == nil or types[f[3]]) then
      if f[1] and f[1] ~= '' and f[1] ~= owner then redis.call('SREM', P .. 'lease:' .. f[1], id) end
      redis.call('HSET', key, 'lo', owner, 'le', expires)
      redis.call('HINCRBY', key, 'v', 1)
      redis.call('SADD', P .. 'lease:' .. owner, id)
      out[#out + 1] = rec(id)
    end
  end
end
return out
