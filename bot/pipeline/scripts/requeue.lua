--[[ requeue: put a dead letter back at the head of the queue it was parked from (an operator's retry).
Refused while a worker holds the queue: a head pushed under a lane's feet would be taken for the
one it is working on.
KEYS[1] the dead-letter hash   KEYS[2] the dead-letter index   KEYS[3] the queue's list
KEYS[4] the queue's claim hash KEYS[5] the queue's ready set   KEYS[6] the stats hash
KEYS[7] a key to delete (the message's failure count), or ''
ARGV[1] the dead letter's id   ARGV[2] the payload to put back  ARGV[3] the queue's tag
ARGV[4] now (ms)               ARGV[5] the counter to bump
Returns 1 requeued; 0 no such dead letter (already retried, or never parked); 2 the queue is held
        by a worker right now (nothing changed: try again in a moment)
]]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local held = redis.call('HGET', KEYS[4], 'token')
if held and tonumber(redis.call('HGET', KEYS[4], 'until') or '0') > tonumber(ARGV[4]) then return 2 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[3])
redis.call('HINCRBY', KEYS[6], ARGV[5], 1)
if KEYS[7] ~= '' then redis.call('DEL', KEYS[7]) end
return 1
