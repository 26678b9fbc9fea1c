--[[ release: give back a lease; the queue is due again after a delay if it still holds anything.
KEYS[1] the claim hash   KEYS[2] the queue's list   KEYS[3] the ready set
ARGV[1] token   ARGV[2] the queue's tag   ARGV[3] now (ms)   ARGV[4] due again in (ms)
Returns 1 released; 0 the lease is not ours (nothing changed)
]]
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if redis.call('LLEN', KEYS[2]) > 0 then
  redis.call('HDEL', KEYS[1], 'token', 'until')
  redis.call('ZADD', KEYS[3], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[2])
else
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[3], ARGV[2])
end
return 1
