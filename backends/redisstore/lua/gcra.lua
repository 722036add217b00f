-- gcra: string 'g' <tat> <rem> <limit> <last> (33 bytes, prelude.lua): the theoretical
-- arrival time is tat + rem / limit µs, exactly (the emission interval period / limit is
-- not rounded), and last is the time of the last change. GCRA admits as the token bucket
-- does (SPEC section 1): used units × period = (arrival time − last) × limit, so
-- bucket.lua decides it, as core's token bucket arithmetic decides it in process.
--
-- Two snippets, not functions, as token_bucket.lua's: decode sets u, lastc and old (used,
-- last, limit) from the state v, and leaves u nil for another algorithm's state, or a
-- state no version writes (a limit below 1, an arrival time before the last change, used
-- or a time past 2^53): another program's, decided fresh and replaced. (An arrival time before
-- the last change read as units below zero: a bucket fuller than full, which admitted
-- more than the limit.) Encode, after the marker line, sets state from used, t and limit.
if #v == 33 then
  local tag, tat, rem
  tag, tat, rem, old, lastc = unpack('<BI8I8I8I8', v)
  u = (tat - lastc) * old + rem
  if tag ~= 103 or old < 1 or u < 0 or u > max_exact or lastc > max_exact then -- 103: 'g'
    u = nil
  end
end
--ENCODE--
local q = floor(used / limit) -- idiv(used, limit)
local r = used - q * limit
if r < 0 then q = q - 1 elseif r >= limit then q = q + 1 end
state = pack('<BI8I8I8I8', 103, t + q, used - q * limit, limit, t)
