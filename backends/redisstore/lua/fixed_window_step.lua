-- The fast block's step (fast.lua) of fixed_window: its load, then finish
-- (fixed_window.lua), for one window, written out (fast.lua says why).

-- load
local count, t = 0, now
local v = rpcall('GET', key)
local c, lastc -- the state's, when it is ours
if type(v) == 'string' and #v == 17 then
  local tag, sc, sl = unpack('<BI8I8', v)
  -- tag 'f'; else another program's state (prelude.lua)
  if tag == 102 and sc <= max_exact and sl <= max_exact then
    t, c, lastc = max(now, sl), sc, sl
  end
end
local q = floor(t / period) -- idiv(t, period): t's aligned window
local r = t - q * period
if r < 0 then q = q - 1 elseif r >= period then q = q + 1 end
if lastc then
  local ql = floor(lastc / period) -- idiv(lastc, period)
  local rl = lastc - ql * period
  if rl < 0 then ql = ql - 1 elseif rl >= period then ql = ql + 1 end
  if q == ql then
    count = c
  end
end
reset = q * period - t + period -- until the window ends
ok, retry = true, 0
if count + cost > limit then
  ok, retry = false, reset
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
    state, expires = pack('<BI8I8', 102, count, t), t + reset
  end
end
remaining = max(0, limit - count)
