--[[ unlock: free a conversation lock, only if this token holds it.
KEYS[1] the lock   ARGV[1] token
Returns 1 freed; 0 not ours (nothing changed)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
