-- ARGV: prefix, now, operation (renew, renew-all, release), owner, id, expires. Returns how many leases changed.
local now = tonumber(ARGV[2])
local op, owner, id, expires = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if op == 'renew-all' then
  local count = 0
  for _, member in ipairs(redis.call('SMEMBERS', P .. 'lease:' .. owner)) do
    local key = wkey(member)
    if redis.call('HGET', key, 'lo') == owner then
      redis.call('HSET', key, 'le', expires)
      count = count + 1
    else
      redis.call('SREM', P .. 'lease:' .. owner, member)
    end
  end
  return count
end
local key = wkey(id)
if redis.call('HGET', key, 'lo') ~= owner then return 0 end
if op == 'renew' then
  redis.call('HSET', key, 'le', expires)
  return 1
end
redis.call('HSET', key, 'lo', '', 'le', '')
redis.call('SREM', P .. 'lease:' .. owner, id)
local f = redis.call('HMGET', key, 'due', 'term', 'ar')
if dueNow(f[1], f[2], f[3], now) then redis.call('PUBLISH', P .. 'work', '') end
return 1
