-- One change set. ARGV: prefix, now (micros), then sections, each a count followed by fixed-size entries.
-- Phase 1 checks everything against the stored versions plus an overlay of this change set's own effects, writing
-- nothing; phase 2 writes. A Lua error would not roll back earlier writes, so nothing after phase 1 may fail.
local nowText = ARGV[2]
local now = tonumber(nowText)
local i = 3
local function nexta() local v = ARGV[i]; i = i + 1; return v end

local checks = {}
for k = 1, tonumber(nexta()) do checks[k] = { nexta(), tonumber(nexta()) } end
local vchecks = {}
for k = 1, tonumber(nexta()) do vchecks[k] = { nexta(), nexta(), tonumber(nexta()) } end
local wfs = {}
for k = 1, tonumber(nexta()) do
  wfs[k] = { kind = nexta(), id = nexta(), expected = tonumber(nexta()), lease = nexta(), doc = nexta(),
    st = nexta(), ty = nexta(), pa = nexta(), ck = nexta(), up = nexta(), due = nexta(), done = nexta(),
    term = nexta(), ar = nexta(), lo = nexta(), le = nexta(), qu = nexta() }
end
local function pairsSection()
  local t = {}
  for k = 1, tonumber(nexta()) do t[k] = { nexta(), nexta() } end
  return t
end
local steps = pairsSection()
local events = pairsSection()
local cmds = pairsSection()
local wss = pairsSection()
local kvs = {}
for k = 1, tonumber(nexta()) do kvs[k] = { op = nexta(), ns = nexta(), key = nexta(), expected = nexta(), json = nexta() } end
-- Signals: consumes (id, seq), checks (id, name), sends (id, "<name>\n<json>"). Pending signals are the sorted set
-- sigs:<id>, scored by sequence, members "<seq>\n<name>\n<json>".
local sigc = pairsSection()
local sigk = pairsSection()
local sigs = pairsSection()

-- Phase 1.
local wv = {}
local function wver(id)
  local v = wv[id]
  if v == nil then
    local r = redis.call('HGET', wkey(id), 'v')
    if r then v = tonumber(r) else v = 0 end
    wv[id] = v
  end
  return v
end
local kv = {}
local function kvv(ns, key)
  local k = ns .. '\0' .. key
  local v = kv[k]
  if v == nil then v = kvver(ns, key); kv[k] = v end
  return v
end
for _, c in ipairs(checks) do
  local actual = wver(c[1])
  if actual == 0 and c[2] > 0 then return { 'notfound', c[1] } end
  if actual ~= c[2] then return { 'conflict', c[1], c[2], actual } end
end
for _, c in ipairs(vchecks) do
  local actual = kvv(c[1], c[2])
  if actual ~= c[3] then return { 'kvconflict', c[1], c[2], c[3], actual } end
end
for _, w in ipairs(wfs) do
  local actual = wver(w.id)
  if w.kind == 'c' then
    if actual ~= 0 then return { 'exists', w.id } end
    wv[w.id] = 1
  else
    if actual == 0 then return { 'notfound', w.id } end
    if actual ~= w.expected then return { 'conflict', w.id, w.expected, actual } end
    wv[w.id] = actual + 1
  end
end
for _, list in ipairs({ steps, events, cmds, wss }) do
  for _, e in ipairs(list) do
    if wver(e[1]) == 0 then return { 'notfound', e[1] } end
  end
end
for _, w in ipairs(kvs) do
  local actual = kvv(w.ns, w.key)
  if w.expected ~= '' and tonumber(w.expected) ~= actual then
    return { 'kvconflict', w.ns, w.key, tonumber(w.expected), actual }
  end
  if w.op == 's' then kv[w.ns .. '\0' .. w.key] = actual + 1 else kv[w.ns .. '\0' .. w.key] = 0 end
end

local consumed = {}
local consumedList = {}
for _, c in ipairs(sigc) do
  local key = P .. 'sigs:' .. c[1]
  local m = redis.call('ZRANGEBYSCORE', key, c[2], c[2])
  local mark = c[1] .. '\n' .. c[2]
  if #m == 0 or consumed[mark] then return { 'signotpending', c[1], c[2] } end
  consumed[mark] = true
  consumedList[#consumedList + 1] = { key, m[1] }
end
for _, c in ipairs(sigk) do
  for _, m in ipairs(redis.call('ZRANGE', P .. 'sigs:' .. c[1], 0, -1)) do
    local seq, name = string.match(m, '^(%d+)\n([^\n]*)\n')
    if name == c[2] and not consumed[c[1] .. '\n' .. seq] then return { 'sigpending', c[1], c[2] } end
  end
end
for _, g in ipairs(sigs) do
  if wver(g[1]) == 0 then return { 'notfound', g[1] } end
end

-- Phase 2.
local wake = false
for _, w in ipairs(wfs) do
  local key = wkey(w.id)
  if w.kind == 'c' then
    redis.call('HSET', key, 'doc', w.doc, 'v', 1, 'st', w.st, 'ty', w.ty, 'pa', w.pa, 'ck', w.ck, 'up', w.up,
      'due', w.due, 'done', w.done, 'term', w.term, 'ar', w.ar, 'lo', w.lo, 'le', w.le)
    qjoin(w.id, w.qu)
    redis.call('ZADD', P .. 'idx:created', 0, w.ck)
    if w.lo ~= '' then redis.call('SADD', P .. 'lease:' .. w.lo, w.id) end
    reactive(nil, w.ck, w.term, w.ar)
  else
    local old = redis.call('HMGET', key, 'ck', 'lo')
    redis.call('HSET', key, 'doc', w.doc, 'st', w.st, 'ty', w.ty, 'pa', w.pa, 'ck', w.ck, 'up', w.up,
      'due', w.due, 'done', w.done, 'term', w.term, 'ar', w.ar)
    redis.call('HINCRBY', key, 'v', 1)
    if old[1] ~= w.ck then
      redis.call('ZREM', P .. 'idx:created', old[1])
      redis.call('ZADD', P .. 'idx:created', 0, w.ck)
    end
    reactive(old[1], w.ck, w.term, w.ar)
    if w.lease == 'r' then
      if old[2] and old[2] ~= '' then redis.call('SREM', P .. 'lease:' .. old[2], w.id) end
      redis.call('HSET', key, 'lo', '', 'le', '')
    end
  end
  reindex(w.id, w.due, w.term, w.ar, w.done)
  if dueNow(w.due, w.term, w.ar, now) then
    local l = redis.call('HMGET', key, 'lo', 'le')
    if not leased(l[1], l[2], now) then wake = true end
  end
end
for _, s in ipairs(steps) do
  local seq = redis.call('HINCRBY', wkey(s[1]), 'ss', 1)
  redis.call('ZADD', P .. 'steps:' .. s[1], seq, seq .. '\n' .. s[2])
end
for _, e in ipairs(events) do
  local seq = redis.call('HINCRBY', wkey(e[1]), 'es', 1)
  redis.call('ZADD', P .. 'events:' .. e[1], seq, seq .. '\n' .. e[2])
end
for _, c in ipairs(cmds) do
  local seq = redis.call('HINCRBY', wkey(c[1]), 'cs', 1)
  redis.call('ZADD', P .. 'cmds:' .. c[1], seq, seq .. '\n' .. c[2])
end
for _, w in ipairs(wss) do redis.call('HSET', P .. 'ws', w[1], w[2]) end
for _, w in ipairs(kvs) do
  if w.op == 's' then
    kvsave(w.ns, w.key, w.json, nowText)
  else
    redis.call('HDEL', P .. 'kv:' .. w.ns, w.key)
    nsgone(w.ns)
  end
end
for _, c in ipairs(consumedList) do redis.call('ZREM', c[1], c[2]) end
for _, g in ipairs(sigs) do
  -- One more than the highest pending: consumed signals are removed, and the order of those still pending is what counts.
  local key = P .. 'sigs:' .. g[1]
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local seq = 1
  if #last > 0 then seq = tonumber(last[2]) + 1 end
  redis.call('ZADD', key, seq, seq .. '\n' .. g[2])
end
if wake then redis.call('PUBLISH', P .. 'work', '') end
return { 'ok' }
