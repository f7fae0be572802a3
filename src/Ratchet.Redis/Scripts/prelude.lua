-- Shared by every script (prepended by RedisScripts). ARGV[1] is the store's key prefix.
-- Scripts build key names themselves from the prefix: the store is one Redis database (not a cluster).
local P = ARGV[1]
local function wkey(id) return P .. 'wf:' .. id end
local function rec(id) return { id, redis.call('HGETALL', wkey(id)) } end
local function leased(lo, le, now)
  return lo and lo ~= '' and le and le ~= '' and tonumber(le) > now
end
-- Key-value entries are stored as "<version>\n<updated micros>\n<json>".
local function kvver(ns, key)
  local r = redis.call('HGET', P .. 'kv:' .. ns, key)
  if not r then return 0 end
  return tonumber(string.match(r, '^(%d+)'))
end
local function kvsave(ns, key, json, now)
  local v = kvver(ns, key) + 1
  redis.call('HSET', P .. 'kv:' .. ns, key, string.format('%d', v) .. '\n' .. now .. '\n' .. json)
  redis.call('SADD', P .. 'ns', ns)
end
local function nsgone(ns)
  if redis.call('EXISTS', P .. 'kv:' .. ns) == 0 and redis.call('EXISTS', P .. 'cps:' .. ns) == 0 then
    redis.call('SREM', P .. 'ns', ns)
  end
end
-- The due set holds non-terminal, unarchived workflows with a due time; the done set terminal, unarchived ones by
-- completion time (for archiving).
local function reindex(id, due, term, ar, done)
  if due ~= '' and term == '0' and ar == '' then redis.call('ZADD', P .. 'due', due, id) else redis.call('ZREM', P .. 'due', id) end
  if term == '1' and done ~= '' and ar == '' then redis.call('ZADD', P .. 'done', done, id) else redis.call('ZREM', P .. 'done', id) end
end
-- idx:active holds the creation-index members of non-terminal, unarchived workflows: listing what is still active
-- (the common query) walks only those.
local function reactive(oldck, ck, term, ar)
  if oldck and oldck ~= ck then redis.call('ZREM', P .. 'idx:active', oldck) end
  if term == '0' and ar == '' then redis.call('ZADD', P .. 'idx:active', 0, ck) else redis.call('ZREM', P .. 'idx:active', ck) end
end
local function dueNow(due, term, ar, now)
  return due ~= '' and term == '0' and ar == '' and tonumber(due) <= now
end
-- Queues. A workflow of a queue has 'qu' = "<priority>\n<partition>\n<queue>" in its hash and is a member of
-- qall:<queue> (pruned lazily once it ended, was archived or deleted); 'queues' names the queues with members. A
-- queue's limits are its JSON in kv:ratchet.queues; qstarts:<queue> holds its starts by time for the rate window.
local function qparse(qu)
  local pr, pa, name = string.match(qu, '^(-?%d+)\n(.-)\n(.*)$')
  if pa == '' then pa = nil end
  return name, pa, tonumber(pr)
end
local function qjoin(id, qu)
  if qu == '' then return end
  local name = qparse(qu)
  redis.call('HSET', wkey(id), 'qu', qu)
  redis.call('SADD', P .. 'qall:' .. name, id)
  redis.call('SADD', P .. 'queues', name)
end
local function qdef(name)
  local r = redis.call('HGET', P .. 'kv:ratchet.queues', name)
  if not r then return {} end
  return cjson.decode(string.match(r, '^%d+\n%d+\n(.*)$'))
end
-- The queue's slots in use (live leases) and its due, claimable workflows (of the types asked for, if any).
local function qscan(name, now, types)
  local holders, cands = {}, {}
  local set = P .. 'qall:' .. name
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    local f = redis.call('HMGET', wkey(id), 'qu', 'lo', 'le', 'term', 'ar', 'due', 'ty')
    if not f[1] or f[4] == '1' or (f[5] and f[5] ~= '') then
      redis.call('SREM', set, id)
    else
      local _, pa, pr = qparse(f[1])
      if leased(f[2], f[3], now) then
        holders[#holders + 1] = { pa = pa, lo = f[2] }
      elseif f[6] and f[6] ~= '' and tonumber(f[6]) <= now and (types == nil or types[f[7]]) then
        cands[#cands + 1] = { id = id, pa = pa, pr = pr, due = tonumber(f[6]) }
      end
    end
  end
  if redis.call('SCARD', set) == 0 then redis.call('SREM', P .. 'queues', name) end
  return holders, cands
end
-- How many more the queue admits for owner now, the running count per partition and the partition limit.
local function qadmission(name, def, holders, owner, now)
  local free = math.huge
  if def.concurrency then free = math.min(free, def.concurrency - #holders) end
  if def.perWorker then
    local mine = 0
    for _, h in ipairs(holders) do if h.lo == owner then mine = mine + 1 end end
    free = math.min(free, def.perWorker - mine)
  end
  if def.rateLimit and def.ratePeriodUs then
    local key = P .. 'qstarts:' .. name
    redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now - def.ratePeriodUs))
    free = math.min(free, def.rateLimit - redis.call('ZCARD', key))
  end
  local parts = {}
  for _, h in ipairs(holders) do if h.pa then parts[h.pa] = (parts[h.pa] or 0) + 1 end end
  return free, parts, def.partitionConcurrency or 1
end
local function qstarted(name, def, now, count)
  if not (def.rateLimit and def.ratePeriodUs) then return end
  for _ = 1, count do
    redis.call('ZADD', P .. 'qstarts:' .. name, string.format('%d', now), tostring(redis.call('INCR', P .. 'qstarts-seq')))
  end
end
