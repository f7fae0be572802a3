-- ARGV: prefix, schema version. Raises the store's schema version, never lowers it (a newer Ratchet may have raised it).
local current = tonumber(redis.call('GET', P .. 'schema') or '0') or 0
if current < tonumber(ARGV[2]) then redis.call('SET', P .. 'schema', ARGV[2]) end
return current
