-- The fast block's step (fast.lua) of token_bucket and gcra: bucket.lua's load, then
-- finish, for one window, written out (fast.lua says why), with the algorithm's decode and
-- encode (<algorithm>.lua) in place of the marker lines.

-- load
local used, rate, t = 0, 0, now
local v = rpcall('GET', key)
if type(v) == 'string' then
  local u, lastc, old
  --DECODE--
  if u then
    t, rate = max(now, lastc), old
    if u > 0 then
      local elapsed = t - lastc
      local q = floor(u / old) -- ceildiv(u, old), u > 0: the time that refills the bucket
      local r = u - q * old
      if r < 0 then q = q - 1 elseif r >= old then q = q + 1 end
      if q * old < u then q = q + 1 end
      if elapsed >= q then
        u = 0
      else
        u = u - elapsed * old
      end
    end
    used = u
  end
end
ok, retry = true, 0
local room = (limit - cost) * period
if used > room then
  local a = used - room -- retry = ceildiv(a, rate), a > 0
  local q = floor(a / rate)
  local r = a - q * rate
  if r < 0 then q = q - 1 elseif r >= rate then q = q + 1 end
  if q * rate < a then q = q + 1 end
  ok, retry = false, q
end

-- finish
short = false
local counted = false
if op == '2' or (ok and op == '0') then
  local c, capacity = cost * period, 2 * limit * period -- debit(used, c, capacity)
  local u
  if used <= capacity - c then
    u = used + c
  else
    u, short = max(used, capacity), true
  end
  if u > used then
    used, rate, counted = u, limit, true
  end
end
-- reset = ceildiv(used, rate), with its test: rate is 0 only when used is, and a NaN (from
-- another program's numbers) computes as in ceildiv
if used <= 0 then
  reset = 0
else -- a NaN too
  local q = floor(used / rate)
  local r = used - q * rate
  if r < 0 then q = q - 1 elseif r >= rate then q = q + 1 end
  if q * rate < used then q = q + 1 end
  reset = q
end
local full = max(0, limit * period - used) -- remaining = idiv(full, period)
local q = floor(full / period)
local r = full - q * period
if r < 0 then q = q - 1 elseif r >= period then q = q + 1 end
remaining = q
if counted then
  --ENCODE--
  expires = t + reset
end
