-- ARGV: prefix, the schema version this Ratchet writes. Creates the schema key, or moves an older version up in place
-- (every version so far only adds keys, so the number is the whole upgrade); a newer or foreign value is left as it
-- is and returned for the store to refuse. Returns { outcome, value before }.
local key = P .. 'schema'
local text = redis.call('GET', key)
if not text then
  redis.call('SET', key, ARGV[2])
  return { 'created', '' }
end
local version = string.match(text, '^%d+$') and tonumber(text)
if version and version >= 1 and version < tonumber(ARGV[2]) then
  redis.call('SET', key, ARGV[2])
  return { 'upgraded', text }
end
return { 'kept', text }
