"""The Lua scripts the gateway's shared limits run in Redis (shared.py), each atomic.

Redis runs a script without interleaving another client's commands, so a check
and the reservation it allows can never be split by another replica's.
"""

# KEYS: the address's counter for this minute, [the token's revoked mark]
# ARGV: the counter's lifetime in seconds, the requests to add (rate_batches.py)
ADMIT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if #KEYS < 2 then return {count, -1} end
return {count, redis.call('EXISTS', KEYS[2])}
"""
RATE_KEY_SECONDS = 120  # the minute counted and the next: clocks of replicas differ a little

# KEYS: failures(user), failures(ip), in-flight(user), in-flight(ip), block(user), block(ip)
# ARGV: now, window, limit(user), limit(ip), in-flight ttl
# → {0, 0} reserved; {1, ms} blocked for ms; {2, ms} the budget is taken by attempts ahead
BEGIN = """
local now = tonumber(ARGV[1])
local wait = math.max(redis.call('PTTL', KEYS[5]), redis.call('PTTL', KEYS[6]))
if wait > 0 then return {1, wait} end
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - tonumber(ARGV[2]))
  local used = redis.call('ZCARD', KEYS[i]) + tonumber(redis.call('GET', KEYS[i + 2]) or '0')
  if used >= tonumber(ARGV[2 + i]) then return {2, 1000} end
end
for i = 3, 4 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[5])
end
return {0, 0}
"""
# KEYS as BEGIN; ARGV: now, window, limit(user), limit(ip), failed (0/1), member, block ms
# → the scopes (1 user, 2 ip) that this failure started blocking
END = """
for i = 3, 4 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
local started = {}
if ARGV[5] == '1' then
  local now = tonumber(ARGV[1])
  for i = 1, 2 do
    redis.call('ZADD', KEYS[i], now, ARGV[6])
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - tonumber(ARGV[2]))
    redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2]) * 1000))
    if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2 + i])
       and redis.call('PTTL', KEYS[4 + i]) <= 0 then
      redis.call('SET', KEYS[4 + i], '1', 'PX', ARGV[7])
      redis.call('DEL', KEYS[i])
      table.insert(started, i)
    end
  end
end
return started
"""


# One scope's state from a replica's memory: KEYS: failures, block;
# ARGV: now, window, block ms still to run (0: none), then the failures' times.
MERGE = """
local now = tonumber(ARGV[1])
for i = 4, #ARGV do
  redis.call('ZADD', KEYS[1], ARGV[i], 'merged:' .. ARGV[i] .. ':' .. i)
end
if #ARGV >= 4 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
end
local left = tonumber(ARGV[3])
if left > 0 and redis.call('PTTL', KEYS[2]) < left then
  redis.call('SET', KEYS[2], '1', 'PX', left)
end
return 1
"""
