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
local function take(id, lo)
  if lo and lo ~= '' and lo ~= owner then redis.call('SREM', P .. 'lease:' .. lo, id) end
  local key = wkey(id)
  redis.call('HSET', key, 'lo', owner, 'le', expires)
  redis.call('HINCRBY', key, 'v', 1)
  redis.call('SADD', P .. 'lease:' .. owner, id)
  out[#out + 1] = rec(id)
end
-- Queues first: their workflows are few and limited, and would starve behind a backlog of the others.
local queues = redis.call('SMEMBERS', P .. 'queues')
table.sort(queues)
for _, name in ipairs(queues) do
  if #out >= max then break end
  local holders, cands = qscan(name, now, types)
  if #cands > 0 then
    local def = qdef(name)
    local free, parts, plimit = qadmission(name, def, holders, owner, now)
    free = math.min(free, max - #out)
    if free > 0 then
      table.sort(cands, function(a, b)
        if a.pr ~= b.pr then return a.pr > b.pr end
        if a.due ~= b.due then return a.due < b.due end
        return a.id < b.id
      end)
      local taken = 0
      for _, c in ipairs(cands) do
        if taken >= free then break end
        local room = true
        if c.pa then
          local n = parts[c.pa] or 0
          if n >= plimit then room = false else parts[c.pa] = n + 1 end
        end
        if room then
          take(c.id, redis.call('HGET', wkey(c.id), 'lo'))
          taken = taken + 1
        end
      end
      qstarted(name, def, now, taken)
    end
  end
end
local offset = 0
while #out < max do
  local ids = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', ARGV[2], 'LIMIT', offset, 256)
  if #ids == 0 then break end
  offset = offset + #ids
  for _, id in ipairs(ids) do
    if #out >= max then break end
    local f = redis.call('HMGET', wkey(id), 'lo', 'le', 'ty', 'qu')
    if not leased(f[1], f[2], now) and (types == nil or types[f[3]]) and not f[4] then
      take(id, f[1])
    end
  end
end
return out
