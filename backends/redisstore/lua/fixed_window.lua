-- fixed_window: string "fixed_window <index> <count>"; index = now / period. A policy
-- change keeps the count as it is (above a lower limit too), so no signature is needed.

-- load reads a window and checks whether it admits cost.
local function load(key, limit, period)
  local index = idiv(now, period)
  local w = {key = key, limit = limit, period = period, index = index, count = 0, dirty = false, ok = true, retry = 0}
  local v = rpcall('GET', key)
  if type(v) == 'string' then
    local i, count = match(v, '^fixed_window (%d+) (%d+)$')
    if i and tonumber(i) == index then
      w.count = tonumber(count)
    end
  end
  if w.count + cost > limit then
    w.ok, w.retry = false, (index + 1) * period - now
  end
  return w
end

-- finish consumes when the decision admits, writing the counter with a TTL until the end
-- of its window, and returns the units remaining and the time until the window ends.
local function finish(w, consume)
  local reset = (w.index + 1) * w.period - now
  if consume then
    w.count = w.count + cost
    rcall('SET', w.key, format('fixed_window %d %d', w.index, w.count), 'PX', ceildiv(reset, 1000) + slack)
  end
  return max(0, w.limit - w.count), reset
end
