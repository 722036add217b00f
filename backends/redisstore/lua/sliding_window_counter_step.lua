-- The fast block's step (fast.lua) of sliding_window_counter: its load, then finish
-- (sliding_window_counter.lua), for one window, written out with earliest (fast.lua says
-- why).

-- load
local count, prev, t = 0, 0, now
local start = now - fmod(now, period) -- the start of t's aligned window: idiv(t, period) × period
local v = rpcall('GET', key)
if type(v) == 'string' then
  local c, pc, lastc = match(v, '^sliding_window_counter (%d+) (%d+) (%d+)$')
  if c then
    lastc = tonumber(lastc)
    t = max(now, lastc)
    start = t - fmod(t, period)
    -- Its age in aligned windows, idiv(t, period) - idiv(lastc, period), as lastc <= t:
    if lastc >= start then -- 0
      count, prev = tonumber(c), tonumber(pc)
    elseif lastc >= start - period then -- 1
      prev = tonumber(c)
    end
  end
end
ok, retry = true, 0
-- (a - r) / b with r = fmod(a, b), raised by b when negative, is idiv(a, b): a cost above
-- the limit, which no Store sends (rate.Policy.CheckCost), makes a negative.
if count + cost > limit then -- earliest(start + period, period, count, limit - cost) - t
  local a = (limit - cost) * period
  local r = fmod(a, count)
  if r < 0 then
    r = r + count
  end
  ok, retry = false, start + 2 * period - (a - r) / count - t
elseif prev * (start + period - t) > (limit - count - cost) * period then -- earliest(start, …)
  local a = (limit - count - cost) * period
  local r = fmod(a, prev)
  if r < 0 then
    r = r + prev
  end
  ok, retry = false, start + period - (a - r) / prev - t
end

-- finish
local window_end = start + period -- the end of the aligned window of t
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
    state = format('sliding_window_counter %d %d %d', count, prev, t)
    local ms = window_end + period - now -- ttl(window_end + period): ceildiv(ms, 1000) + slack, ms > 0
    local r = fmod(ms, 1000)
    px = (ms - r) / 1000 + (r > 0 and 1 or 0) + slack
  end
end
local weighted = prev * (window_end - t) -- remaining: limit - count - ceildiv(weighted, period)
local r = fmod(weighted, period)
remaining = max(0, limit - count - (weighted - r) / period - (r > 0 and 1 or 0))
if count > 0 then
  reset = window_end + period - t
elseif prev > 0 then
  reset = window_end - t
else
  reset = 0
end
