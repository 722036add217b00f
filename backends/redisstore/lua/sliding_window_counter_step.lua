-- The fast block's step (fast.lua) of sliding_window_counter: its load, then finish
-- (sliding_window_counter.lua), for one window, written out with wait (fast.lua says
-- why).

-- load
local count, prev, t = 0, 0, now
local v = rpcall('GET', key)
local c, pc, lastc -- the state's, when it is ours
if type(v) == 'string' and #v == 25 then
  local tag, sc, spc, sl = unpack('<BI8I8I8', v)
  -- tag 'c'; else another program's state (prelude.lua)
  if tag == 99 and sc <= max_exact and spc <= max_exact and sl <= max_exact then
    t, c, pc, lastc = max(now, sl), sc, spc, sl
  end
end
local k = floor(t / period) -- idiv(t, period): t's aligned window
local r = t - k * period
if r < 0 then k = k - 1 elseif r >= period then k = k + 1 end
if lastc then
  local kl = floor(lastc / period) -- the age, k - idiv(lastc, period), in aligned windows
  local rl = lastc - kl * period
  if rl < 0 then kl = kl - 1 elseif rl >= period then kl = kl + 1 end
  if k - kl == 0 then
    count, prev = c, pc
  elseif k - kl == 1 then
    prev = c
  end
end
local start = k * period
local to_end = start - t + period -- until the aligned window of t ends
ok, retry = true, 0
if count + cost > limit then -- wait(to_end, period, count, limit - cost)
  local a = (limit - cost) * period -- idiv(a, count)
  local q = floor(a / count)
  r = a - q * count
  if r < 0 then q = q - 1 elseif r >= count then q = q + 1 end
  ok, retry = false, to_end + period - q
elseif prev * to_end > (limit - count - cost) * period then -- wait(start - t, …)
  local a = (limit - count - cost) * period -- idiv(a, prev)
  local q = floor(a / prev)
  r = a - q * prev
  if r < 0 then q = q - 1 elseif r >= prev then q = q + 1 end
  ok, retry = false, start - t + period - q
end

-- finish
short = false
if op == '2' or (ok and op == '0') then
  local c, capacity = count, 2 * limit -- debit(count, cost, capacity)
  if count <= capacity - cost then
    c = count + cost
  else
    c, short = max(count, capacity), true
  end
  if c > count then
    count = c
    state = pack('<BI8I8I8', 99, count, prev, t)
    expires = t + to_end + period
  end
end
local weighted = prev * to_end -- remaining = limit - count - ceildiv(weighted, period)
local q = 0
if not (weighted <= 0) then -- ceildiv's own test, which a NaN passes
  q = floor(weighted / period)
  r = weighted - q * period
  if r < 0 then q = q - 1 elseif r >= period then q = q + 1 end
  if q * period < weighted then q = q + 1 end
end
remaining = max(0, limit - count - q)
if count > 0 then
  reset = to_end + period
elseif prev > 0 then
  reset = to_end
else
  reset = 0
end
