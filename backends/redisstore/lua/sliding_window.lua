-- sliding_window: sorted set of admission times, score = time (µs), member "<time>:<j>",
-- the mirror of core/rate/sliding_window.go. It holds one member per admitted unit, so it grows
-- with use, never with the limit, and a policy change keeps every admission.

local function at(key, rank) -- the admission time at rank (0 = oldest, -1 = newest)
  return tonumber(rcall('ZRANGE', key, rank, rank, 'WITHSCORES')[2])
end

-- load decides at max(now, the newest admission), drops the admissions that left the
-- window and checks whether it admits cost.
local function load(key, limit, period)
  local w = {key = key, limit = limit, period = period, n = 0, t = now, ok = true, retry = 0}
  local newest = rpcall('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest.err then
    rcall('DEL', key) -- another algorithm's state: start fresh
  elseif newest[2] then
    w.t = max(now, tonumber(newest[2]))
    rcall('ZREMRANGEBYSCORE', key, '-inf', w.t - period)
    w.n = rcall('ZCARD', key)
  end
  if w.n + cost > limit then
    -- The oldest n+cost-limit admissions must leave the window first.
    w.ok, w.retry = false, at(key, w.n + cost - limit - 1) + period - w.t
  end
  return w
end

-- finish adds the admissions when the decision admits, with a TTL until the newest leaves
-- the window, and returns the units remaining and the time until the window is empty.
local function finish(w, consume)
  if consume then
    -- Names "<t>:<n+j>": the admissions at t are all still in the window, so they number
    -- at most n and the names are new; should one exist, ZADD NX adds fewer and the next
    -- names are tried.
    local left, j = cost, w.n
    while left > 0 do
      local args = {}
      for _ = 1, min(left, 500) do
        j = j + 1
        args[#args + 1] = w.t
        args[#args + 1] = format('%d:%d', w.t, j)
      end
      left = left - rcall('ZADD', w.key, 'NX', unpack(args))
    end
    w.n = w.n + cost
    rcall('PEXPIRE', w.key, ttl(w.t + w.period))
    return max(0, w.limit - w.n), w.period
  end
  if w.n == 0 then
    return w.limit, 0
  end
  return max(0, w.limit - w.n), at(w.key, -1) + w.period - w.t
end
