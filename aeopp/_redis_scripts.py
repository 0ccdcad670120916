"""The Redis side of ``RedisCoordinator``: key names and the Lua scripts, as plain text.

Every key of one business unit carries the hash tag ``{unit}``, so that a script touching several of
them runs on one Redis Cluster node. Scripts take the time from Redis itself (``TIME``), never from a
host, so that hosts' clocks can't expire each other's leases. Each script runs atomically.

The slots of a unit (a counting semaphore with leases, fair):

* ``slots``: sorted set, member = a holder id ``<process id>:<n>``, score = lease expiry (ms);
* ``queue``: sorted set of the holders waiting, score = a ticket from ``ticket`` (INCR): first come,
  first served across processes, so that none starves;
* ``queue-deadline``: sorted set, the same waiters, score = when their place lapses (a waiter renews
  it each time it tries again; a dead process's places lapse by themselves);
* ``wake:<process id>``: a list a process blocks on (BLPOP) while its tasks wait; a release pushes to
  the lists of the processes whose waiters come next.
"""

from __future__ import annotations

import attrs

__all__ = ["ACQUIRE", "ADMIT", "DELETE_IF_EQUAL", "RELEASE", "RENEW", "SET_IF_OWNER", "UnitKeys"]


@attrs.frozen
class UnitKeys:
    """The Redis keys of one business unit under one prefix."""

    prefix: str
    unit: str

    def key(self, name: str) -> str:
        return f"{self.prefix}:{{{self.unit}}}:{name}"

    @property
    def slots(self) -> str:
        return self.key("slots")

    @property
    def queue(self) -> str:
        return self.key("queue")

    @property
    def queue_deadline(self) -> str:
        return self.key("queue-deadline")

    @property
    def ticket(self) -> str:
        return self.key("ticket")

    @property
    def wake_prefix(self) -> str:
        return self.key("wake:")

    def wake(self, process: str) -> str:
        return self.wake_prefix + process

    @property
    def daily_limit(self) -> str:
        return self.key("daily-limit-reached")

    def budget(self, day: str) -> str:
        return self.key(f"budget:{day}")

    @property
    def token(self) -> str:
        return self.key("token")

    @property
    def token_lock(self) -> str:
        return self.key("token-lock")

    @property
    def slot_keys(self) -> list[str]:
        """KEYS of ACQUIRE and RELEASE, in order."""
        return [self.slots, self.queue, self.queue_deadline, self.ticket, self.daily_limit]


# now (ms, Redis time); expired leases and lapsed places in the queue are dropped.
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for i = 1, #lapsed, 500 do
  redis.call('ZREM', KEYS[2], unpack(lapsed, i, math.min(i + 499, #lapsed)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local function keep(key, ms)
  if redis.call('EXISTS', key) == 1 and redis.call('PTTL', key) < ms then
    redis.call('PEXPIRE', key, ms)
  end
end
"""

#: KEYS: slots, queue, queue-deadline, ticket, daily-limit. ARGV: limit, holder, lease ms, place ms.
#: Returns 1 (slot taken), 0 (wait: the holder keeps its place in the queue), or -1 (the unit's daily
#: limit is known to be reached: nothing was queued).
ACQUIRE = (
    _PRELUDE
    + """
local limit, holder = tonumber(ARGV[1]), ARGV[2]
local lease, place = tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('ZREM', KEYS[2], holder)
  redis.call('ZREM', KEYS[3], holder)
  return -1
end
if not redis.call('ZSCORE', KEYS[2], holder) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), holder)
end
redis.call('ZADD', KEYS[3], now + place, holder)
keep(KEYS[2], place + 1000)
keep(KEYS[3], place + 1000)
keep(KEYS[4], place + 1000)
local free = limit - redis.call('ZCARD', KEYS[1])
if free > 0 and redis.call('ZRANK', KEYS[2], holder) < free then
  redis.call('ZREM', KEYS[2], holder)
  redis.call('ZREM', KEYS[3], holder)
  redis.call('ZADD', KEYS[1], now + lease, holder)
  keep(KEYS[1], lease + 1000)
  return 1
end
return 0
"""
)

#: KEYS: as ACQUIRE. ARGV: holder, limit, wake-list prefix, wake-list ms.
#: Gives the slot back (or the place in the queue); safe to repeat. Wakes the processes whose
#: waiters are now first in line. Returns how many entries were removed (0 when repeated).
RELEASE = (
    _PRELUDE
    + """
local holder, limit = ARGV[1], tonumber(ARGV[2])
local removed = redis.call('ZREM', KEYS[1], holder) + redis.call('ZREM', KEYS[2], holder)
redis.call('ZREM', KEYS[3], holder)
local free = limit - redis.call('ZCARD', KEYS[1])
if free > 0 then
  local woken = {}
  for _, waiter in ipairs(redis.call('ZRANGE', KEYS[2], 0, free - 1)) do
    local process = string.match(waiter, '^(.*):')
    if process and not woken[process] then
      woken[process] = true
      local list = ARGV[3] .. process
      redis.call('LPUSH', list, '1')
      redis.call('LTRIM', list, 0, 0)
      redis.call('PEXPIRE', list, ARGV[4])
    end
  end
end
return removed
"""
)

#: KEYS: as ACQUIRE. ARGV: lease ms, then the holders to renew.
#: Extends each lease still held; returns the holders whose lease was lost (expired or released).
RENEW = (
    _PRELUDE
    + """
local lease = tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
keep(KEYS[1], lease + 1000)
return lost
"""
)

#: KEYS: daily-limit, budget counter of the day. ARGV: budget (-1: none), counter ms.
#: Returns {0, 0} (go; counted), {1, ms left} (the daily limit is known to be reached) or
#: {2, ms left} (this coordinator's daily budget is spent).
ADMIT = """
local flag = redis.call('PTTL', KEYS[1])
if flag ~= -2 then
  return {1, flag}
end
local budget = tonumber(ARGV[1])
if budget >= 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= budget then
    return {2, redis.call('PTTL', KEYS[2])}
  end
  if redis.call('INCR', KEYS[2]) == 1 then
    redis.call('PEXPIRE', KEYS[2], ARGV[2])
  end
end
return {0, 0}
"""

#: KEYS: a key. ARGV: a value. Deletes the key only if it holds that value: a lock released only by
#: its owner, or a rejected token retired only if no other process replaced it already.
DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

#: KEYS: lock, value key. ARGV: owner, value, ms to live. Sets the value only while holding the lock.
SET_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
