-- ARGV: prefix. Everything, read in one atomic step:
-- { { { id, fields, steps, events, commands, workspace, signals } ... }, { { namespace, values, checkpoints, { name, entries }... } ... } }
local wfs = {}
for _, m in ipairs(redis.call('ZRANGE', P .. 'idx:created', 0, -1)) do
  local id = string.sub(m, 17)
  wfs[#wfs + 1] = { id, redis.call('HGETALL', wkey(id)), redis.call('ZRANGE', P .. 'steps:' .. id, 0, -1),
    redis.call('ZRANGE', P .. 'events:' .. id, 0, -1), redis.call('ZRANGE', P .. 'cmds:' .. id, 0, -1),
    redis.call('HGET', P .. 'ws', id) or '', redis.call('ZRANGE', P .. 'sigs:' .. id, 0, -1) }
end
local nss = {}
for _, ns in ipairs(redis.call('SMEMBERS', P .. 'ns')) do
  local infos = redis.call('HGETALL', P .. 'cps:' .. ns)
  local cps = {}
  for k = 1, #infos, 2 do
    cps[#cps + 1] = { infos[k], infos[k + 1], redis.call('HGETALL', P .. 'cp:' .. ns .. '/' .. infos[k]) }
  end
  nss[#nss + 1] = { ns, redis.call('HGETALL', P .. 'kv:' .. ns), cps }
end
return { wfs, nss }
