-- ARGV: prefix, namespace, name. One checkpoint, read in one atomic step: { info, entries } or {} when there is none.
local ns, name = ARGV[2], ARGV[3]
local info = redis.call('HGET', P .. 'cps:' .. ns, name)
if not info then return {} end
return { info, redis.call('HGETALL', P .. 'cp:' .. ns .. '/' .. name) }
