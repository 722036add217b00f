-- The fast block's step (fast.lua) of fixed_window: its load, then finish
-- (fixed_window.lua), for one window, written out (fast.lua says why).

-- load
local count, t = 0, now
local start = now - fmod(now, period) -- the start of t's window: idiv(t, period) × period
local v = rpcall('GET', key)
if type(v) == 'string' then
  local c, lastc = match(v, '^fixed_window (%d+) (%d+)$')
  if c then
    lastc = tonumber(lastc)
    t = max(now, lastc)
    start = t - fmod(t, period)
    if lastc >= start then -- idiv(t, period) == idiv(lastc, period), as lastc <= t
      count = tonumber(c)
    end
  end
end
reset = start + period - t -- until the window ends
ok, retry = true, 0
if count + cost > limit then
  ok, retry = false, reset
end

-- finish
short = false
if op == '2' or (ok and op == '0') then
  local c, capacity = count, 2 * limit -- debit(count, cost, capacity)
  if count <= capacity - cost then
    c = count + cost
  else
    c, short = max(count, capacity), true
  end
  if c > count then
    count = c
    state = format('fixed_window %d %d', count, t)
    local ms = t + reset - now -- ttl(t + reset): ceildiv(ms, 1000) + slack, ms > 0
    local r = fmod(ms, 1000)
    px = (ms - r) / 1000 + (r > 0 and 1 or 0) + slack
  end
end
remaining = max(0, limit - count)
