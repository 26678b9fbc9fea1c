--[[ claim: lease every due queue of a candidate list that nobody holds (mailboxes and outboxes).
A claim is a hash {token, until}. A claim whose `until` passed without a release means its holder
died or froze on the queue's head: that head's crash count goes up (kept in `crash_head`/`crashes`
until the head changes), so a message that kills or hangs its worker can be parked.
KEYS[1]            the ready set (zset: tag -> due ms)
KEYS[2 .. n+1]     the candidates' claim hashes
KEYS[n+2 .. 2n+1]  the candidates' lists (in the same order)
ARGV[1] now (ms)   ARGV[2] lease (ms)   ARGV[3] token   ARGV[4 .. n+3] the candidates' tags
Returns a flat array: for each queue claimed, its tag, its head's crash count (0 = none), its head.
        Queues not due yet are skipped; queues held by someone else are postponed to their lease's
        end; empty ones leave the ready set.
]]
local n = #ARGV - 3
local now, lease, token = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local got = {}
for i = 1, n do
  local claim, list, tag = KEYS[1 + i], KEYS[1 + n + i], ARGV[3 + i]
  local due = tonumber(redis.call('ZSCORE', KEYS[1], tag) or '-1')
  local held = redis.call('HGET', claim, 'token')
  local untl = tonumber(redis.call('HGET', claim, 'until') or '0')
  if due < 0 or due > now then
    -- not due (or not waiting at all): leave it to its time
  elseif held and untl > now then
    redis.call('ZADD', KEYS[1], 'XX', untl, tag)
  else
    local head = redis.call('LINDEX', list, 0)
    if not head then
      redis.call('ZREM', KEYS[1], tag)
      redis.call('DEL', claim)
    else
      local crashes = 0
      local same = redis.call('HGET', claim, 'crash_head') == head
      if held then
        if same then
          crashes = redis.call('HINCRBY', claim, 'crashes', 1)
        else
          redis.call('HSET', claim, 'crash_head', head, 'crashes', 1)
          crashes = 1
        end
      elseif same then
        crashes = tonumber(redis.call('HGET', claim, 'crashes') or '0')
      end
      redis.call('HSET', claim, 'token', token, 'until', now + lease)
      redis.call('ZADD', KEYS[1], 'XX', now + lease, tag)
      table.insert(got, tag)
      table.insert(got, crashes)
      table.insert(got, head)
    end
  end
end
return got
