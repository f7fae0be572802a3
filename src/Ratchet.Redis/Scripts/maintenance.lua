-- ARGV: prefix, now, operation, ...
--   archive: cutoff, then (id, archived event json) pairs; archives those still terminal, unarchived and finished
--            before the cutoff. Returns how many.
--   delete: id. Returns 1 if the workflow existed.
local now, op = ARGV[2], ARGV[3]
if op == 'delete' then
  local id = ARGV[4]
  local key = wkey(id)
  local f = redis.call('HMGET', key, 'ck', 'lo')
  if not f[1] then return 0 end
  redis.call('ZREM', P .. 'idx:created', f[1])
  redis.call('ZREM', P .. 'idx:active', f[1])
  redis.call('ZREM', P .. 'due', id)
  redis.call('ZREM', P .. 'done', id)
  if f[2] and f[2] ~= '' then redis.call('SREM', P .. 'lease:' .. f[2], id) end
  redis.call('HDEL', P .. 'ws', id)
  redis.call('DEL', key, P .. 'steps:' .. id, P .. 'events:' .. id, P .. 'cmds:' .. id, P .. 'sigs:' .. id)
  return 1
end
local cutoff = tonumber(ARGV[4])
local count = 0
for k = 5, #ARGV, 2 do
  local id = ARGV[k]
  local key = wkey(id)
  local f = redis.call('HMGET', key, 'term', 'done', 'ar')
  if f[1] == '1' and f[3] == '' and f[2] ~= '' and tonumber(f[2]) < cutoff then
    redis.call('HSET', key, 'ar', now, 'up', now)
    redis.call('HINCRBY', key, 'v', 1)
    reindex(id, '', '1', now, f[2])
    redis.call('ZREM', P .. 'idx:active', redis.call('HGET', key, 'ck'))
    local seq = redis.call('HINCRBY', key, 'es', 1)
    redis.call('ZADD', P .. 'events:' .. id, seq, seq .. '\n' .. ARGV[k + 1])
    count = count + 1
  end
end
return count
