--[[ renew: a worker's heartbeat, extending the leases it still holds.
KEYS[1 .. a]      claim hashes (mailboxes or outboxes)
KEYS[a+1 .. n]    conversation locks (strings with a PX lease)
ARGV[1] the claims' new `until` (ms)   ARGV[2] the locks' lease (ms)   ARGV[3] a
ARGV[4 .. n+3]    the token each key must still hold
Returns an array of 1 (renewed) or 0 (lost: someone else's now, or gone), one per key
]]
local a = tonumber(ARGV[3])
local out = {}
for i = 1, #KEYS do
  local token = ARGV[3 + i]
  if i <= a then
    if redis.call('HGET', KEYS[i], 'token') == token then
      redis.call('HSET', KEYS[i], 'until', ARGV[1])
      out[i] = 1
    else
      out[i] = 0
    end
  elseif redis.call('GET', KEYS[i]) == token then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
