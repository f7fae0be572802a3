-- ARGV: prefix, as of (micros), limit. Due workflows, earliest first (then id), leased or not.
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))) do
  out[#out + 1] = rec(id)
end
return out
