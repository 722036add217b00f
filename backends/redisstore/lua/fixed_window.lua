-- fixed_window: string 'f' <count> <last> (17 bytes, prelude.lua), the mirror of
-- core/rate/fixed_window.go: the units counted in the aligned window [k × period, (k+1) ×
-- period) that holds last, the time of the last change (up to twice the limit, see debit).
-- A policy change keeps the count as it is (above a lower limit too), so no signature is
-- needed.

-- load reads a window at max(now, its last change) and checks whether it admits cost; it
-- sets reset, the time until the aligned window of t ends.
local function load(key, limit, period)
  local w = {key = key, limit = limit, period = period, count = 0, t = now, ok = true, retry = 0}
  local v = rpcall('GET', key)
  local count, last -- the state's, when it is ours
  if type(v) == 'string' and #v == 17 then
    local tag, c, l = unpack('<BI8I8', v)
    -- tag 'f'; else another program's state (prelude.lua)
    if tag == 102 and c <= max_exact and l <= max_exact then
      w.t, count, last = max(now, l), c, l
    end
  end
  local k = idiv(w.t, period)
  if last and k == idiv(last, period) then
    w.count = count
  end
  w.reset = k * period - w.t + period
  if w.count + cost > limit then
    w.ok, w.retry = false, w.reset
  end
  return w
end

-- finish consumes when the decision consumes, up to the cap, writing the counter with a
-- TTL until the end of its window, and returns the units remaining, the time until the
-- window ends and whether the cap cut the cost short.
local function finish(w, consume)
  local reset = w.reset
  local short = false
  if consume then
    local count
    count, short = debit(w.count, cost, 2 * w.limit)
    if count > w.count then
      w.count = count
      rcall('SET', w.key, pack('<BI8I8', 102, w.count, w.t), 'PX', ttl(w.t + reset))
    end
  end
  return max(0, w.limit - w.count), reset, short
end
