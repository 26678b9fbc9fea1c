--[[ accept: take one message from a channel into its sender's mailbox, once.
KEYS[1]  dedupe key of (channel, message id)
KEYS[2]  the sender's mailbox (list)
KEYS[3]  the ready set (zset: identity tag -> due ms)
KEYS[4]  the drain kick key (set while a drain job waits)
KEYS[5]  the stats hash
KEYS[6]  a set of refused addresses (opted-out SMS numbers), or '' for none
KEYS[7]  the sender's last-inbound key (string, ms), or '' for the shop's own control messages
ARGV[1]  dedupe ttl (s)        ARGV[2] the message (JSON)     ARGV[3] the identity's tag
ARGV[4]  now (ms)              ARGV[5] kick ttl (s)           ARGV[6] the channel, as counted
ARGV[7]  the sender's address (checked against KEYS[6])
ARGV[8]  how long KEYS[7] is kept (s)
Returns 0 duplicate (nothing stored); 1 stored; 2 stored, and the caller must queue a drain job;
        3 refused: the address is in the refused set (nothing stored)
KEYS[7] is written (ARGV[4]) only when the message is stored: a redelivery or a refused message
does not move the time the customer last wrote.
]]
if KEYS[6] ~= '' and redis.call('SISMEMBER', KEYS[6], ARGV[7]) == 1 then
  redis.call('HINCRBY', KEYS[5], 'ignored:' .. ARGV[6] .. '_opted_out', 1)
  return 3
end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('HINCRBY', KEYS[5], 'duplicates:' .. ARGV[6], 1)
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[3])
redis.call('HINCRBY', KEYS[5], 'messages_in:' .. ARGV[6], 1)
if KEYS[7] ~= '' then
  redis.call('SET', KEYS[7], ARGV[4], 'EX', ARGV[8])
end
if redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[5]) then return 2 end
return 1
