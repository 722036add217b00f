-- gcra: string "gcra <tat> <limit> <sig>". tat is the theoretical arrival time (µs); the
-- emission interval is period / limit whole µs, the burst tolerance limit × interval.

-- load reads and migrates a window, and checks whether it admits cost.
local function load(key, limit, period)
  local interval = idiv(period, limit)
  local w = {key = key, limit = limit, interval = interval, tat = 0, dirty = false, ok = true, retry = 0}
  local v = rpcall('GET', key)
  if type(v) == 'string' then
    local tat, old, s = match(v, '^gcra (%d+) (%d+) (%w+)$')
    if tat then
      w.tat = tonumber(tat)
      if s ~= sig then -- a new policy: carry the debt, in whole units of the old interval
        local debt = w.tat - now
        w.tat = 0
        if debt > 0 then
          w.tat = now + ceildiv(debt, idiv(period, tonumber(old))) * interval
        end
        w.dirty = true
      end
    end
  end
  local wait = (max(w.tat, now) - now) + cost * interval - limit * interval
  if wait > 0 then
    w.ok, w.retry = false, wait
  end
  return w
end

-- finish consumes when the decision admits, writes the state when it changed (with a TTL
-- until the arrival time has passed: then the state is fresh), and returns the units
-- remaining and the time until the window is full.
local function finish(w, consume)
  local interval = w.interval
  if consume then
    w.tat = max(w.tat, now) + cost * interval
  end
  local debt = max(w.tat, now) - now
  if consume or w.dirty then
    if debt <= 0 then
      rcall('DEL', w.key)
    else
      rcall('SET', w.key, format('gcra %d %d %s', w.tat, w.limit, sig), 'PX', ceildiv(debt, 1000) + slack)
    end
  end
  return idiv(max(0, w.limit * interval - debt), interval), debt
end
