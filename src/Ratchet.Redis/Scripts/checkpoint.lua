-- ARGV: prefix, now, operation (create, restore, delete), namespace, name.
-- Checkpoint values live in the hash cp:<namespace>/<name> (key -> json); cps:<namespace> maps each name to
-- "<created micros>\n<entry count>". Names cannot hold '/', so the two parts never run together ambiguously.
local now, op, ns, name = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local values = P .. 'kv:' .. ns
local cp = P .. 'cp:' .. ns .. '/' .. name
local cps = P .. 'cps:' .. ns
if op == 'create' then
  redis.call('DEL', cp)
  local all = redis.call('HGETALL', values)
  local count = 0
  for k = 1, #all, 2 do
    redis.call('HSET', cp, all[k], string.match(all[k + 1], '^%d+\n%-?%d+\n(.*)$'))
    count = count + 1
  end
  redis.call('HSET', cps, name, now .. '\n' .. count)
  redis.call('SADD', P .. 'ns', ns)
  return count
end
if redis.call('HEXISTS', cps, name) == 0 then return -1 end
if op == 'delete' then
  redis.call('HDEL', cps, name)
  redis.call('DEL', cp)
  nsgone(ns)
  return 1
end
local saved = redis.call('HGETALL', cp)
local keep = {}
for k = 1, #saved, 2 do keep[saved[k]] = true end
for _, key in ipairs(redis.call('HKEYS', values)) do
  if not keep[key] then redis.call('HDEL', values, key) end
end
for k = 1, #saved, 2 do kvsave(ns, saved[k], saved[k + 1], now) end
return 1
