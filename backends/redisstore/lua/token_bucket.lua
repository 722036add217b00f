-- token_bucket: string "token_bucket <level> <last> <limit> <sig>". level = tokens ×
-- period (µs), so the refill is exact; it is below 0 only after a policy change lowered
-- the limit (used = old limit × period − level stays used).

local function refresh(w, limit)
  local elapsed = now - w.last
  if elapsed > 0 then
    w.level = min(limit * w.period, w.level + min(elapsed, w.period) * limit)
    w.last = now
    return true
  end
  return false
end

-- load reads, migrates and refreshes a window, and checks whether it admits cost.
local function load(key, limit, period)
  local w = {key = key, limit = limit, period = period, level = limit * period, last = 0, dirty = false, ok = true, retry = 0}
  local v = rpcall('GET', key)
  if type(v) == 'string' then
    local level, last, old, s = match(v, '^token_bucket (%-?%d+) (%d+) (%d+) (%w+)$')
    if level then
      w.level, w.last = tonumber(level), tonumber(last)
      if s ~= sig then -- a new policy: the units used stay used
        old = tonumber(old)
        refresh(w, old)
        w.level = limit * period - (old * period - w.level)
        w.dirty = true
      end
    end
  end
  local before = w.level
  if refresh(w, limit) and before < 0 then
    w.dirty = true -- below 0 each refresh adds at most one period: keep this one
  end
  local need = cost * period
  if w.level < need then
    w.ok = false
    if w.level >= 0 then
      w.retry = ceildiv(need - w.level, limit)
    else
      w.retry = ceildiv_sum(need, -w.level, limit)
    end
  end
  return w
end

-- finish consumes when the decision admits, writes the state when it changed (with a TTL
-- until the bucket is full again: a full bucket is a fresh one), and returns the units
-- remaining and the time until full.
local function finish(w, consume)
  local limit, period = w.limit, w.period
  if consume then
    w.level = w.level - cost * period
  end
  local remaining, reset = 0, 0
  if w.level >= 0 then
    remaining, reset = idiv(w.level, period), ceildiv(limit * period - w.level, limit)
  else
    reset = ceildiv_sum(limit * period, -w.level, limit)
  end
  if consume or w.dirty then
    if reset <= 0 then
      rcall('DEL', w.key)
    else
      rcall('SET', w.key, format('token_bucket %d %d %d %s', w.level, w.last, limit, sig), 'PX', ceildiv(reset, 1000) + slack)
    end
  end
  return remaining, reset
end
