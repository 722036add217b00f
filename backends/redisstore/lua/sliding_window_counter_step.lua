-- The fast block's step (fast.lua) of sliding_window_counter: its load, then finish
-- (sliding_window_counter.lua), for one window, with earliest written out.

-- load
local count, prev, t = 0, 0, now
local v = rpcall('GET', key)
if type(v) == 'string' then
  local c, pc, lastc = match(v, '^sliding_window_counter (%d+) (%d+) (%d+)$')
  if c then
    lastc = tonumber(lastc)
    t = max(now, lastc)
    local age = idiv(t, period) - idiv(lastc, period) -- in aligned windows
    if age == 0 then
      count, prev = tonumber(c), tonumber(pc)
    elseif age == 1 then
      prev = tonumber(c)
    end
  end
end
local start = idiv(t, period) * period
ok, retry = true, 0
if count + cost > limit then -- earliest(start + period, period, count, limit - cost) - t
  ok, retry = false, start + 2 * period - idiv((limit - cost) * period, count) - t
elseif prev * (start + period - t) > (limit - count - cost) * period then -- earliest(start, …)
  ok, retry = false, start + period - idiv((limit - count - cost) * period, prev) - t
end

-- finish
local window_end = start + period -- the end of the aligned window of t
short = false
if op == '2' or (ok and op == '0') then
  local c
  c, short = debit(count, cost, 2 * limit)
  if c > count then
    count = c
    state, px = format('sliding_window_counter %d %d %d', count, prev, t), ttl(window_end + period)
  end
end
remaining = max(0, limit - count - ceildiv(prev * (window_end - t), period))
if count > 0 then
  reset = window_end + period - t
elseif prev > 0 then
  reset = window_end - t
else
  reset = 0
end
