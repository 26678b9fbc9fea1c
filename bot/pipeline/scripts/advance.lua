--[[ advance: after a send from a held outbox: drop the head it sent, or write its progress into it.
An outbox left empty is released at once (nothing more to send).
KEYS[1] the outbox's claim hash   KEYS[2] the outbox (list)   KEYS[3] the stats hash
KEYS[4] the outbox ready set
ARGV[1] token   ARGV[2] the head that was sent from   ARGV[3] the new head ('' drops it)
ARGV[4] the claim's new `until` (ms)   ARGV[5] a counter to bump, or ''   ARGV[6] the outbox's tag
Returns {1, the next head} done, the lease still held; {1} done, the outbox empty and released;
        {0} the claim is not ours; {-1} the head moved (nothing changed either way)
]]
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return {0} end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[2] then return {-1} end
if ARGV[5] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[5], 1) end
if ARGV[3] ~= '' then
  redis.call('LSET', KEYS[2], 0, ARGV[3])
  redis.call('HSET', KEYS[1], 'until', ARGV[4])
  return {1, ARGV[3]}
end
redis.call('LPOP', KEYS[2])
local next_head = redis.call('LINDEX', KEYS[2], 0)
if not next_head then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[4], ARGV[6])
  return {1}
end
redis.call('HDEL', KEYS[1], 'crash_head', 'crashes')
redis.call('HSET', KEYS[1], 'until', ARGV[4])
return {1, next_head}
