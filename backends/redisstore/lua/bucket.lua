-- The token bucket arithmetic of token_bucket and gcra, with the algorithm's decode and
-- encode (<algorithm>.lua) in place of the marker lines, step for step as
-- core/rate/token_bucket.go. Every product stays within 2^53: validation keeps
-- limit × period ≤ 2^52, used never exceeds twice it (a consume beyond full, see debit), and
-- a refill is computed only below the time that empties used.

-- load reads a window at max(now, its last change), refills it and checks whether it
-- admits cost.
local function load(key, limit, period)
  local w = {key = key, limit = limit, period = period, used = 0, rate = 0, t = now, ok = true, retry = 0}
  local v = rpcall('GET', key)
  if type(v) == 'string' then
    local u, lastc, old
    --DECODE--
    if u then
      w.t, w.rate = max(now, lastc), old
      if u > 0 then -- refill since the last change, at the limit it was made under
        local elapsed = w.t - lastc
        if elapsed >= ceildiv(u, old) then
          u = 0
        else
          u = u - elapsed * old
        end
      end
      w.used = u
    end
  end
  local room = (limit - cost) * period
  if w.used > room then
    -- Until the next admission the bucket refills at the limit of its last change.
    w.ok, w.retry = false, ceildiv(w.used - room, w.rate)
  end
  return w
end

-- finish consumes when the decision consumes, up to the cap, writing the state with a TTL
-- until the bucket is full again (a full bucket is a fresh one), and returns the units
-- remaining, the time until full and whether the cap cut the cost short.
local function finish(w, consume)
  local limit, period = w.limit, w.period
  local short, counted = false, false
  if consume then
    local used
    used, short = debit(w.used, cost * period, 2 * limit * period)
    if used > w.used then
      w.used, w.rate, counted = used, limit, true
    end
  end
  local reset = ceildiv(w.used, w.rate) -- rate is 0 only when used is
  if counted then
    local used, t, state = w.used, w.t
    --ENCODE--
    rcall('SET', w.key, state, 'PX', ttl(t + reset))
  end
  return idiv(max(0, limit * period - w.used), period), reset, short
end
