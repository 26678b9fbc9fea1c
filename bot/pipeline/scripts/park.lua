--[[ park: move the head of a held queue to the dead letters, and tell the customer once.
KEYS[1] the claim hash         KEYS[2] the queue's list     KEYS[3] the dead-letter hash
KEYS[4] the dead-letter index  KEYS[5] the stats hash
KEYS[6] where the apology goes: an outbox list, a reply slot, or ''
KEYS[7] the outbox ready set (outbox apology) or the reply-ready list (slot apology), or ''
ARGV[1] token    ARGV[2] the head to park    ARGV[3] the dead letter's id    ARGV[4] its entry (JSON)
ARGV[5] now (s)  ARGV[6] the counter to bump
ARGV[7] the apology's kind: 'outbox' | 'slot' | ''    ARGV[8] the apology (JSON)
ARGV[9] outbox: the recipient's tag; slot: its ttl (s)  ARGV[10] now (ms)
Returns 1 parked; 0 the claim is not ours; -1 the head moved (nothing changed either way)
]]
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[2] then return -1 end
redis.call('LPOP', KEYS[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[3])
redis.call('HINCRBY', KEYS[5], ARGV[6], 1)
redis.call('HDEL', KEYS[1], 'crash_head', 'crashes')
if ARGV[7] == 'outbox' then
  redis.call('RPUSH', KEYS[6], ARGV[8])
  redis.call('ZADD', KEYS[7], 'NX', ARGV[10], ARGV[9])
elseif ARGV[7] == 'slot' then
  redis.call('SET', KEYS[6], ARGV[8], 'EX', ARGV[9])
  redis.call('RPUSH', KEYS[7], '1')
  redis.call('EXPIRE', KEYS[7], ARGV[9])
end
return 1
