-- sliding_window: sorted set of admission times, score = time (µs), member "<time>:<j>".
-- A sorted set keeps every admission, so a policy change needs no capacity.

local function at(key, rank) -- the admission time at rank (0 = oldest, -1 = newest)
  return tonumber(rcall('ZRANGE', key, rank, rank, 'WITHSCORES')[2])
end

-- load drops the admissions that left the window and checks whether it admits cost.
local function load(key, limit, period)
  local w = {key = key, limit = limit, period = period, n = 0, dirty = false, ok = true, retry = 0}
  local r = rpcall('ZREMRANGEBYSCORE', key, '-inf', now - period)
  if type(r) == 'table' and r.err then
    rcall('DEL', key) -- another algorithm's state: start fresh
  end
  w.n = rcall('ZCARD', key)
  if w.n + cost > limit then
    -- The oldest n+cost-limit admissions must leave the window first.
    w.ok, w.retry = false, at(key, w.n + cost - limit - 1) + period - now
  end
  return w
end

-- finish adds the admissions when the decision admits, with a TTL until the newest leaves
-- the window, and returns the units remaining and the time until the window is empty.
local function finish(w, consume)
  if consume then
    -- Names "<now>:<n+j>": the admissions at this instant are all still in the window, so
    -- they number at most n and the names are new, unless the server's clock went back;
    -- then ZADD NX adds fewer and the next names are tried.
    local left, j = cost, w.n
    while left > 0 do
      local args = {}
      for _ = 1, min(left, 500) do
        j = j + 1
        args[#args + 1] = now
        args[#args + 1] = format('%d:%d', now, j)
      end
      left = left - rcall('ZADD', w.key, 'NX', unpack(args))
    end
    w.n = w.n + cost
    rcall('PEXPIRE', w.key, ceildiv(w.period, 1000) + slack)
    return max(0, w.limit - w.n), w.period
  end
  if w.n == 0 then
    return w.limit, 0
  end
  return max(0, w.limit - w.n), at(w.key, -1) + w.period - now
end
