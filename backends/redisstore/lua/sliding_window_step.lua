-- The fast block's step (fast.lua) of sliding_window: its load, then finish
-- (sliding_window.lua), for one window, written out with units_of and unit_at (fast.lua
-- says why). It writes the set itself, with pcall where Redis may refuse (ZADD out of
-- memory); the block sets its TTL from expires.

-- load
local n, gone, t, newest_t, other, marked = 0, 0, now, nil, false, false
local first = 1 -- the rank of the oldest admission: 1 past the total "#", 0 without it
local newest = rpcall('ZRANGE', key, -1, -1, 'WITHSCORES')
if newest.err then
  other = true -- another algorithm's state: decided fresh, replaced when consuming
elseif newest[1] == '#' then -- a total and no admission after it: decided fresh
  marked = true
elseif newest[2] and tonumber(newest[2]) > max_exact then -- an admission past any clock
  other = true
elseif newest[2] then
  newest_t = tonumber(newest[2])
  t = max(now, newest_t)
  local total
  local old = rcall('ZRANGEBYSCORE', key, '-inf', max(t - period, -1), 'WITHSCORES')
  for i = 1, #old, 2 do
    local score = tonumber(old[i + 1])
    if old[i] == '#' then
      total = score
    elseif score >= 0 then
      gone = gone + (tonumber(match(old[i], '^%d+:%d+:(%d+)$')) or 1) -- units_of
    end
  end
  if not total then -- a total of another program (not below every admission's time)?
    total = tonumber(rcall('ZSCORE', key, '#') or '')
  end
  marked = total ~= nil
  if not total then -- an older layout: one member per unit, no total
    total, first = -rcall('ZCARD', key), 0
  end
  n = -total - gone
  if total >= 0 or n < 0 then -- a total no version writes: another program's state
    other, n, gone, t = true, 0, 0, now
  end
end
ok, retry = true, 0
if n + cost > limit then
  -- The time of the k-th oldest unit (unit_at), which must leave the window first.
  local k, rank, oldest, page = gone + n + cost - limit - 1, first, nil, nil
  repeat
    page = rcall('ZRANGE', key, rank, rank + 99, 'WITHSCORES')
    for i = 1, #page, 2 do
      local u = tonumber(match(page[i], '^%d+:%d+:(%d+)$')) or 1 -- units_of
      if k < u then
        oldest = tonumber(page[i + 1])
        break
      end
      k = k - u
    end
    rank = rank + 100
  until oldest or #page == 0
  if oldest then
    ok, retry = false, oldest - t + period
  else -- a total its members do not hold: not a state of ours, replaced like another's
    other, n, gone, t = true, 0, 0, now
  end
end

-- finish
local units = n -- after the request: debit(n, cost, 2 * limit) when it consumes
short = false
if op == '2' or (ok and op == '0') then
  if n <= 2 * limit - cost then
    units = n + cost
  else
    units, short = max(n, 2 * limit), true
  end
end
local drop = gone > 0 and op ~= '3'
if drop then
  if units > 0 then -- the total is written below, with the admission or alone
    rcall('ZREMRANGEBYSCORE', key, 0, t - period)
  else -- nothing left in the window: the state is a fresh window's
    rcall('DEL', key)
    marked, drop = false, false
  end
end
if units > n then
  if other then
    rcall('DEL', key)
    marked = false
  end
  -- The member "<t>:<j>:<units>", j past the units held (sliding_window.lua's finish says
  -- why it is new, and tries the next one if not); ZADD answers how many were new.
  local j, fresh = n, 0
  repeat
    j = j + 1
    local added = rpcall('ZADD', key, t, format('%d:%d:%d', t, j, units - n), -units, '#')
    if type(added) == 'table' then
      failed = added.err
    else
      fresh = added - (marked and 0 or 1)
      marked = true
    end
  until failed or fresh == 1
  expires = t + period -- the block sets the set's TTL (PEXPIRE), unless a write failed
  remaining, reset = max(0, limit - units), period
else
  if drop then
    local r = rpcall('ZADD', key, -n, '#') -- also adds the total to an older layout
    if type(r) == 'table' then
      failed = r.err
    end
  end
  if n == 0 then
    remaining, reset = limit, 0
  else
    remaining, reset = max(0, limit - n), newest_t - t + period
  end
end
