-- sliding_window_counter: string 'c' <count> <prev> <last> (25 bytes, prelude.lua), the
-- mirror of core/rate/sliding_window_counter.go: count = the units of the aligned window
-- k = ⌊last / period⌋ that holds last, the time of the last change; prev = the units of
-- window k − 1. At t, e µs into its aligned window, the sliding window is estimated to hold
-- prev × (period − e) / period + count units; a request is admitted iff count + cost ≤
-- limit and prev × (period − e) ≤ (limit − count − cost) × period, checked in that order
-- so that every product stays within 2^53 (limit × period ≤ 2^52, and the counts reach at
-- most twice the limit, see debit). A policy change keeps both counts as they are (above a
-- lower limit too), so no signature is needed.

-- wait is core's earliest less t: the time from t until the first instant of the aligned
-- window that starts at t + from at which weighted × (period − e) ≤ room × period. It
-- takes the window's start as an offset from t (from ≤ period) so that no number it forms
-- is an instant plus a duration: near 2^53 µs such a sum would be rounded.
local function wait(from, period, weighted, room)
  return from + period - idiv(room * period, weighted)
end

-- load reads a window at max(now, its last change) and checks whether it admits cost; it
-- sets to_end, the time until the aligned window of t ends.
local function load(key, limit, period)
  local w = {key = key, limit = limit, period = period, count = 0, prev = 0, t = now, ok = true, retry = 0}
  local v = rpcall('GET', key)
  local count, prev, last -- the state's, when it is ours
  if type(v) == 'string' and #v == 25 then
    local tag, c, pc, l = unpack('<BI8I8I8', v)
    -- tag 'c'; else another program's state (prelude.lua)
    if tag == 99 and c <= max_exact and pc <= max_exact and l <= max_exact then
      w.t, count, prev, last = max(now, l), c, pc, l
    end
  end
  local k = idiv(w.t, period)
  if last then
    local age = k - idiv(last, period) -- in aligned windows
    if age == 0 then
      w.count, w.prev = count, prev
    elseif age == 1 then
      w.prev = count
    end
  end
  local start = k * period
  w.to_end = start - w.t + period
  if w.count + cost > limit then
    w.ok, w.retry = false, wait(w.to_end, period, w.count, limit - cost)
  elseif w.prev * w.to_end > (limit - w.count - cost) * period then
    w.ok, w.retry = false, wait(start - w.t, period, w.prev, limit - w.count - cost)
  end
  return w
end

-- finish consumes when the decision consumes, up to the cap, writing the counters with a
-- TTL until they are a fresh window's (the end of the window after the current one), and
-- returns the units remaining, the time until the window is full again and whether the cap
-- cut the cost short.
local function finish(w, consume)
  local period, to_end = w.period, w.to_end
  local short = false
  if consume then
    local count
    count, short = debit(w.count, cost, 2 * w.limit)
    if count > w.count then
      w.count = count
      rcall('SET', w.key, pack('<BI8I8I8', 99, w.count, w.prev, w.t), 'PX', ttl(w.t + to_end + period))
    end
  end
  local remaining = max(0, w.limit - w.count - ceildiv(w.prev * to_end, period))
  if w.count > 0 then
    return remaining, to_end + period, short
  elseif w.prev > 0 then
    return remaining, to_end, short
  end
  return remaining, 0, short
end
