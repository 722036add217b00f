-- sliding_window: a sorted set, the mirror of core/rate/sliding_window.go. One member per
-- admitted request: score = admission time (µs), member "<time>:<j>:<units>", so the state
-- grows with requests, never with the limit or the cost; and the member "#", whose score is
-- minus the units of the set, so that counting them takes no walk. A policy change keeps
-- every admission. Consumes beyond full may put up to twice the limit in the window (see
-- debit); a check then waits until enough of them have left it.

local function units_of(member) -- "<time>:<j>:<units>"; a member of an older layout is 1
  return tonumber(match(member, '^%d+:%d+:(%d+)$')) or 1
end

-- unit_at returns the time of the k-th oldest unit (0 = the oldest), k < the units held,
-- from rank first on (1 past the total "#", 0 in an older layout without it); nil when the
-- members hold fewer units than that (a total this script did not write).
local function unit_at(key, first, k)
  local rank = first
  while true do
    local page = rcall('ZRANGE', key, rank, rank + 99, 'WITHSCORES')
    if #page == 0 then
      return nil
    end
    for i = 1, #page, 2 do
      local u = units_of(page[i])
      if k < u then
        return tonumber(page[i + 1])
      end
      k = k - u
    end
    rank = rank + 100
  end
end

-- load decides at max(now, the newest admission) and checks whether the window admits
-- cost. It only reads: the admissions that left the window are counted (gone), and finish
-- removes them (but for a peek, which writes nothing), admitted or denied, as core's drop:
-- each admission is read once after it leaves, so a client denied for long (by another
-- window, a cooldown) costs no walk over its past. Removing them in finish writes the
-- total once: with the admission's member, or alone.
--
-- Two reads find the state: the newest member, then one range by score up to the window's
-- start, which holds the total "#" (its score, minus the units held, is below every
-- admission's) and the admissions that left, at or after time 0. w.marked is whether "#" is
-- in the set, for finish.
local function load(key, limit, period)
  local w = {key = key, limit = limit, period = period, n = 0, gone = 0, t = now, ok = true, retry = 0}
  local newest = rpcall('ZRANGE', key, -1, -1, 'WITHSCORES')
  local first = 1
  if newest.err then
    w.other = true -- another algorithm's state: decided fresh, replaced when consuming
  elseif newest[1] == '#' then -- a total and no admission after it: decided fresh
    w.marked = true
  elseif newest[2] and tonumber(newest[2]) > max_exact then -- an admission past any clock
    w.other = true -- another program's state (prelude.lua)
  elseif newest[2] then
    w.t, w.newest = max(now, tonumber(newest[2])), tonumber(newest[2])
    local total
    local old = rcall('ZRANGEBYSCORE', key, '-inf', max(w.t - period, -1), 'WITHSCORES')
    for i = 1, #old, 2 do
      local score = tonumber(old[i + 1])
      if old[i] == '#' then
        total = score
      elseif score >= 0 then
        w.gone = w.gone + units_of(old[i])
      end
    end
    if not total then -- a total of another program (not below every admission's time)?
      total = tonumber(rcall('ZSCORE', key, '#') or '')
    end
    w.marked = total ~= nil
    if not total then -- an older layout: one member per unit, no total
      total, first = -rcall('ZCARD', key), 0
    end
    w.n = -total - w.gone
    if total >= 0 or w.n < 0 then
      -- A total no version writes (not minus a count of units, or below the units that
      -- left): another program's state, decided fresh and replaced when consuming, as
      -- another algorithm's. (A total that omits units still in the window is not seen
      -- without a walk: every write carries the omission forward, admitting up to those
      -- units more in the window, until all its admissions have left; docs/redis.md.)
      w.other, w.n, w.gone, w.t = true, 0, 0, now
    end
  end
  if w.n + cost > limit then
    -- The oldest n+cost-limit units in the window must leave it first.
    local oldest = unit_at(key, first, w.gone + w.n + cost - limit - 1)
    if oldest then
      w.ok, w.retry = false, oldest - w.t + period
    else -- a total its members do not hold: not a state of ours, replaced like another's
      w.other, w.n, w.gone, w.t = true, 0, 0, now
    end
  end
  return w
end

-- finish removes the admissions that left the window (not for a peek), and adds the
-- request when consume is true, with the units that fit under the cap — replacing another
-- algorithm's state — with a TTL until it leaves the window; it returns the units
-- remaining, the time until the window is empty and whether the cap cut the cost short.
local function finish(w, consume)
  local n, short = w.n, false
  if consume then
    n, short = debit(w.n, cost, 2 * w.limit)
  end
  local drop = w.gone > 0 and op ~= '3'
  if drop then
    if n > 0 then -- the total is written below, with the admission or alone
      rcall('ZREMRANGEBYSCORE', w.key, 0, w.t - w.period)
    else -- nothing left in the window: the state is a fresh window's
      rcall('DEL', w.key)
      w.marked, drop = false, false
    end
  end
  if n > w.n then
    if w.other then
      rcall('DEL', w.key)
      w.marked = false
    end
    -- Name "<t>:<j>:<units>" with j past the units held: while t stays the newest time, the
    -- units only grow (the admissions of time t never leave the window before a later one
    -- comes), so the name is new; should it exist (a name an older version chose), the
    -- next one is tried. One ZADD adds it and sets the total, also adding the total to an
    -- older layout: it answers how many of the two were new, and "#" is new unless marked.
    local j = w.n
    repeat
      j = j + 1
      local added = rcall('ZADD', w.key, w.t, format('%d:%d:%d', w.t, j, n - w.n), -n, '#')
      local fresh = added - (w.marked and 0 or 1) -- is the admission's member new?
      w.marked = true
    until fresh == 1
    w.n = n
    rcall('PEXPIRE', w.key, ttl(w.t + w.period))
    return max(0, w.limit - w.n), w.period, short
  end
  if drop then
    rcall('ZADD', w.key, -w.n, '#') -- also adds the total to an older layout
  end
  if w.n == 0 then
    return w.limit, 0, short
  end
  return max(0, w.limit - w.n), w.newest - w.t + w.period, short
end
