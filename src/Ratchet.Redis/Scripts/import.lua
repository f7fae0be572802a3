-- ARGV: prefix, mode (e: empty store only, m: merge), then workflows, values and checkpoints (see RedisRatchetStore).
-- Records the store already has are kept; in mode e a store holding anything is refused before any write.
local mode = ARGV[2]
if mode == 'e' and (redis.call('EXISTS', P .. 'idx:created') == 1 or redis.call('SCARD', P .. 'ns') > 0) then
  return 'notempty'
end
local i = 3
local function nexta() local v = ARGV[i]; i = i + 1; return v end
for _ = 1, tonumber(nexta()) do
  local id, doc, v, st, ty, pa, ck, up, due, done, term, ar, lo, le, qu, ws =
    nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta(), nexta()
  local key = wkey(id)
  local write = redis.call('EXISTS', key) == 0
  if write then
    redis.call('HSET', key, 'doc', doc, 'v', v, 'st', st, 'ty', ty, 'pa', pa, 'ck', ck, 'up', up, 'due', due,
      'done', done, 'term', term, 'ar', ar, 'lo', lo, 'le', le, 'ss', 0, 'es', 0, 'cs', 0)
    redis.call('ZADD', P .. 'idx:created', 0, ck)
    reindex(id, due, term, ar, done)
    reactive(nil, ck, term, ar)
    if lo ~= '' then redis.call('SADD', P .. 'lease:' .. lo, id) end
    if ws ~= '' then redis.call('HSET', P .. 'ws', id, ws) end
    qjoin(id, qu)
  end
  for _, kind in ipairs({ 'ss', 'es', 'cs' }) do
    local name = (kind == 'ss' and 'steps:') or (kind == 'es' and 'events:') or 'cmds:'
    for _ = 1, tonumber(nexta()) do
      local seq, json = nexta(), nexta()
      if write then
        redis.call('ZADD', P .. name .. id, seq, seq .. '\n' .. json)
        if tonumber(seq) > tonumber(redis.call('HGET', key, kind)) then redis.call('HSET', key, kind, seq) end
      end
    end
  end
  -- Pending signals: (seq, "<name>\n<json>") pairs.
  for _ = 1, tonumber(nexta()) do
    local seq, entry = nexta(), nexta()
    if write then redis.call('ZADD', P .. 'sigs:' .. id, seq, seq .. '\n' .. entry) end
  end
end
for _ = 1, tonumber(nexta()) do
  local ns, key, v, at, json = nexta(), nexta(), nexta(), nexta(), nexta()
  if redis.call('HEXISTS', P .. 'kv:' .. ns, key) == 0 then
    redis.call('HSET', P .. 'kv:' .. ns, key, v .. '\n' .. at .. '\n' .. json)
    redis.call('SADD', P .. 'ns', ns)
  end
end
for _ = 1, tonumber(nexta()) do
  local ns, name, at, count = nexta(), nexta(), nexta(), tonumber(nexta())
  local write = redis.call('HEXISTS', P .. 'cps:' .. ns, name) == 0
  if write then
    redis.call('HSET', P .. 'cps:' .. ns, name, at .. '\n' .. count)
    redis.call('SADD', P .. 'ns', ns)
  end
  for _ = 1, count do
    local key, json = nexta(), nexta()
    if write then redis.call('HSET', P .. 'cp:' .. ns .. '/' .. name, key, json) end
  end
end
return 'ok'
