--[[ commit: everything one processed message changes, at once or not at all.
A reply queued into an outbox that was empty and free is also claimed for the lane (its lock
token), so the lane can send it right away without another round trip to claim it.
KEYS[1]  the sender's claim hash            KEYS[2]  the sender's mailbox (list)
KEYS[3]  the conversation state to write    KEYS[4]  a state to delete (the conversation moved), or ''
KEYS[5]  the conversation lock              KEYS[6]  a second lock the lane holds (the moved-to key), or ''
KEYS[7]  the stats hash                     KEYS[8]  the outbox ready set
KEYS[9]  the reply slot, or ''              KEYS[10] the reply-ready list, or ''
KEYS[11] the sender's link, or ''
KEYS[12 .. 11+n]     one outbox list per outbound reply (in ARGV order)
KEYS[12+n .. 11+2n]  the claim hash of each of those outboxes
ARGV[1]  claim token    ARGV[2] lock token      ARGV[3] the mailbox head this commit consumes
ARGV[4]  state JSON ('' deletes the state)      ARGV[5] state ttl (s)
ARGV[6]  reply JSON     ARGV[7] reply ttl (s)   ARGV[8] link phone ('-' deletes the link)   ARGV[9] link ttl (s)
ARGV[10] now (ms)       ARGV[11] lease (ms)     ARGV[12] n, the number of outbound replies
ARGV[13 .. 12+2n]  for each reply: the recipient's tag, then the reply (JSON)
ARGV[13+2n ..]     counter name, amount pairs for the stats hash
Returns {1, tags...} committed, with the tags of the outboxes it claimed for the lane;
        {0} the claim or a lock is no longer ours (nothing changed);
        {-1} the head is not the mailbox's first (already committed; nothing changed)
]]
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return {0} end
if redis.call('GET', KEYS[5]) ~= ARGV[2] then return {0} end
if KEYS[6] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[2] then return {0} end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[3] then return {-1} end
redis.call('LPOP', KEYS[2])
local now, lease = tonumber(ARGV[10]), tonumber(ARGV[11])
if ARGV[4] == '' then redis.call('DEL', KEYS[3]) else redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5]) end
if KEYS[4] ~= '' then redis.call('DEL', KEYS[4]) end
if KEYS[9] ~= '' then
  redis.call('SET', KEYS[9], ARGV[6], 'EX', ARGV[7])
  redis.call('RPUSH', KEYS[10], '1')
  redis.call('EXPIRE', KEYS[10], ARGV[7])
end
if KEYS[11] ~= '' then
  if ARGV[8] == '-' then redis.call('DEL', KEYS[11]) else redis.call('SET', KEYS[11], ARGV[8], 'EX', ARGV[9]) end
end
local n = tonumber(ARGV[12])
local out = {1}
for i = 1, n do
  local list, claim, tag = KEYS[11 + i], KEYS[11 + n + i], ARGV[11 + 2 * i]
  if redis.call('RPUSH', list, ARGV[12 + 2 * i]) == 1 and not redis.call('HGET', claim, 'token') then
    redis.call('HSET', claim, 'token', ARGV[2], 'until', now + lease)
    redis.call('ZADD', KEYS[8], now + lease, tag)
    table.insert(out, tag)
  else
    redis.call('ZADD', KEYS[8], 'NX', now, tag)
  end
end
for i = 13 + 2 * n, #ARGV, 2 do redis.call('HINCRBY', KEYS[7], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'until', now + lease)
redis.call('PEXPIRE', KEYS[5], lease)
return out
