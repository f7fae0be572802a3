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
