-- ARGV: prefix, now, id, owner, expires
local now = tonumber(ARGV[2])
local id, owner = ARGV[3], ARGV[4]
local key = wkey(id)
if redis.call('EXISTS', key) == 0 then return { 'notfound' } end
local f = redis.call('HMGET', key, 'lo', 'le', 'qu', 'term')
if f[1] and f[1] ~= '' and f[1] ~= owner and leased(f[1], f[2], now) then return { 'held' } end
-- Anyone but its live holder takes a workflow of a queue only while the queue has room.
if f[3] and not leased(f[1], f[2], now) and f[4] ~= '1' then
  local name, pa = qparse(f[3])
  local holders = qscan(name, now, nil)
  local def = qdef(name)
  local free, parts, plimit = qadmission(name, def, holders, owner, now)
  if free <= 0 or (pa and (parts[pa] or 0) >= plimit) then return { 'held' } end
  qstarted(name, def, now, 1)
end
if f[1] and f[1] ~= '' and f[1] ~= owner then redis.call('SREM', P .. 'lease:' .. f[1], id) end
redis.call('HSET', key, 'lo', owner, 'le', ARGV[5])
redis.call('HINCRBY', key, 'v', 1)
redis.call('SADD', P .. 'lease:' .. owner, id)
return { 'ok', rec(id) }
