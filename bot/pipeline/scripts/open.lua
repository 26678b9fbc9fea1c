--[[ open: start a lane on a conversation: lock it, then read its state and count this minute's messages.
KEYS[1] the conversation lock   KEYS[2] the conversation state   KEYS[3] this minute's rate counter
ARGV[1] token   ARGV[2] lease (ms)   ARGV[3] messages to count   ARGV[4] rate counter ttl (s)
Returns {1, state or false, the counter after counting}; {0} the conversation is locked by another lane
]]
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local state = redis.call('GET', KEYS[2])
local count = redis.call('INCRBY', KEYS[3], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return {1, state, count}
