-- The fast block's step (fast.lua) of token_bucket and gcra: bucket.lua's load, then
-- finish, for one window, written out (fast.lua says why), with the algorithm's decode and
-- encode (<algorithm>.lua) in place of the marker lines.

-- load
local used, rate, t = 0, 0, now
local v = rpcall('GET', key)
if type(v) == 'string' then
  local u, lastc, old
  --DECODE--
  if u then
    t, rate = max(now, lastc), old
    if u > 0 then
      local elapsed = t - lastc
      local r = fmod(u, old) -- elapsed >= ceildiv(u, old): the bucket refilled
      if elapsed >= (u - r) / old + (r > 0 and 1 or 0) then
        u = 0
      else
        u = u - elapsed * old
      end
    end
    used = u
  end
end
ok, retry = true, 0
local room = (limit - cost) * period
if used > room then
  local r = fmod(used - room, rate) -- retry = ceildiv(used - room, rate)
  ok, retry = false, (used - room - r) / rate + (r > 0 and 1 or 0)
end

-- finish
short = false
local counted = false
if op == '2' or (ok and op == '0') then
  local c, capacity = cost * period, 2 * limit * period -- debit(used, c, capacity)
  local u
  if used <= capacity - c then
    u = used + c
  else
    u, short = max(used, capacity), true
  end
  if u > used then
    used, rate, counted = u, limit, true
  end
end
reset = 0 -- ceildiv(used, rate); rate is 0 only when used is
if used > 0 then
  local r = fmod(used, rate)
  reset = (used - r) / rate + (r > 0 and 1 or 0)
end
local full = max(0, limit * period - used) -- idiv(full, period)
remaining = (full - fmod(full, period)) / period
if counted then
  --ENCODE--
  local ms = t + reset - now -- ttl(t + reset): ceildiv(ms, 1000) + slack, ms > 0
  local r = fmod(ms, 1000)
  px = (ms - r) / 1000 + (r > 0 and 1 or 0) + slack
end
