-- gcra: string 'G' <delay> <rem> <limit> <last> (33 bytes, prelude.lua): the theoretical
-- arrival time is last + delay + rem / limit µs, exactly (the emission interval period /
-- limit is not rounded), and last is the time of the last change. GCRA admits as the
-- token bucket does (SPEC section 1): used units × period = (arrival time − last) × limit,
-- so bucket.lua decides it, as core's token bucket arithmetic decides it in process.
--
-- The arrival time is kept as its distance from last, not as an instant: near 2^53 µs
-- (where the stores clamp instants) an instant of last + delay is past 2^53 and would be
-- rounded to an even number, a unit of the limit lost or gained at every write (under
-- 1,000,000 per second, takes of 1 unit at 2^53 were admitted and never counted). delay is
-- at most twice the period (units are capped at twice the limit). The tag is 'G', not
-- the 'g' of a development version that kept the instant: its states would read as a
-- delay of decades, and are another program's.
--
-- Two snippets, not functions, as token_bucket.lua's: decode sets u, lastc and old (used,
-- last, limit) from the state v, and leaves u nil for another algorithm's state, or a
-- state no version writes (a limit below 1, a limit, used or a time past 2^53): another
-- program's, decided fresh and replaced. Encode, after the marker line, sets state from
-- used, t and limit.
if #v == 33 then
  local tag, delay, rem
  tag, delay, rem, old, lastc = unpack('<BI8I8I8I8', v)
  u = delay * old + rem
  if tag ~= 71 or old < 1 or old > max_exact or u > max_exact or lastc > max_exact then -- 71: 'G'
    u = nil
  end
end
--ENCODE--
local q = floor(used / limit) -- idiv(used, limit)
local r = used - q * limit
if r < 0 then q = q - 1 elseif r >= limit then q = q + 1 end
state = pack('<BI8I8I8I8', 71, q, used - q * limit, limit, t)
