-- The fast block's step (fast.lua) of fixed_window: its load, then finish
-- (fixed_window.lua), for one window.

-- load
local count, t = 0, now
local v = rpcall('GET', key)
if type(v) == 'string' then
  local c, lastc = match(v, '^fixed_window (%d+) (%d+)$')
  if c then
    lastc = tonumber(lastc)
    t = max(now, lastc)
    if idiv(t, period) == idiv(lastc, period) then
      count = tonumber(c)
    end
  end
end
reset = (idiv(t, period) + 1) * period - t -- until the window ends
ok, retry = true, 0
if count + cost > limit then
  ok, retry = false, reset
end

-- finish
short = false
if op == '2' or (ok and op == '0') then
  local c
  c, short = debit(count, cost, 2 * limit)
  if c > count then
    count = c
    state, px = format('fixed_window %d %d', count, t), ttl(t + reset)
  end
end
remaining = max(0, limit - count)
