-- A page of workflows in creation order. ARGV: prefix, direction (a/d), min, max (lex bounds on the creation
-- index), how many to take, how many index entries to examine at most, include archived (1/0), has parent (1/0),
-- parent, updated from, updated to ('' for none), index (idx:created, or idx:active when only active statuses are
-- asked for), status count, statuses..., type count, types...
-- Returns { continuation, records }: continuation is the last examined entry when the budget ran out first, else ''.
local dir, lo, hi = ARGV[2], ARGV[3], ARGV[4]
local take, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local archived, hasParent, parent = ARGV[7] == '1', ARGV[8] == '1', ARGV[9]
local upFrom, upTo = tonumber(ARGV[10]), tonumber(ARGV[11])
local i = 13
local statuses, types = nil, nil
local n = tonumber(ARGV[i]); i = i + 1
if n > 0 then statuses = {}; for k = 1, n do statuses[ARGV[i]] = true; i = i + 1 end end
n = tonumber(ARGV[i]); i = i + 1
if n > 0 then types = {}; for k = 1, n do types[ARGV[i]] = true; i = i + 1 end end
local idx = P .. ARGV[12]
local out = {}
local examined = 0
while #out < take do
  if examined >= budget then
    if dir == 'a' then return { string.sub(lo, 2), out } else return { string.sub(hi, 2), out } end
  end
  local batch
  if dir == 'a' then batch = redis.call('ZRANGEBYLEX', idx, lo, hi, 'LIMIT', 0, 128)
  else batch = redis.call('ZREVRANGEBYLEX', idx, hi, lo, 'LIMIT', 0, 128) end
  if #batch == 0 then break end
  for _, m in ipairs(batch) do
    examined = examined + 1
    if dir == 'a' then lo = '(' .. m else hi = '(' .. m end
    local id = string.sub(m, 17)
    local f = redis.call('HMGET', wkey(id), 'st', 'ty', 'pa', 'up', 'ar')
    local up = tonumber(f[4])
    if (archived or f[5] == '') and (statuses == nil or statuses[f[1]]) and (types == nil or types[f[2]])
      and (not hasParent or f[3] == parent) and (upFrom == nil or up >= upFrom) and (upTo == nil or up < upTo) then
      out[#out + 1] = rec(id)
      if #out >= take then break end
    end
  end
end
return { '', out }
