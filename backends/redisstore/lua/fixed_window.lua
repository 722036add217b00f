-- fixed_window: string 'f' <count> <last> (17 bytes, prelude.lua), the mirror of
-- core/rate/fixed_window.go: the units counted in the aligned window [k × period, (k+1) ×
-- period) that holds last, the time of the last change (up to twice the limit, see debit). A policy change keeps the count
-- as it is (above a lower limit too), so no signature is needed.

-- load reads a window at max(now, its last change) and checks whether it admits cost.
local function load(key, limit, period)
  local w = {key = key, limit = limit, period = period, count = 0, t = now, ok = true, retry = 0}
  local v = rpcall('GET', key)
  if type(v) == 'string' and #v == 17 then
    local tag, count, last = unpack('<BI8I8', v)
    -- tag 'f'; else another program's state (prelude.lua)
    if tag == 102 and count <= max_exact and last <= max_exact then
      w.t = max(now, last)
      if idiv(w.t, period) == idiv(last, period) then
        w.count = count
      end
    end
  end
  if w.count + cost > limit then
    w.ok, w.retry = false, idiv(w.t, period) * period - w.t + period
  end
  return w
end

-- finish consumes when the decision consumes, up to the cap, writing the counter with a
-- TTL until the end of its window, and returns the units remaining, the time until the
-- window ends and whether the cap cut the cost short.
local function finish(w, consume)
  local reset = idiv(w.t, w.period) * w.period - w.t + w.period
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
