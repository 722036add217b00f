-- gcra: string "gcra <tat> <rem> <limit> <last>": the theoretical arrival time is
-- tat + rem / limit µs, exactly (the emission interval period / limit is not rounded), and
-- last is the time of the last change. GCRA admits as the token bucket does (SPEC section
-- 1): used units × period = (arrival time − last) × limit, so bucket.lua decides it, as
-- core's token bucket arithmetic decides it in process.

local function parse(v) -- used, last, limit; nil for another algorithm's state
  local tat, rem, limit, last = match(v, '^gcra (%d+) (%d+) (%d+) (%d+)$')
  if tat then
    limit, last = tonumber(limit), tonumber(last)
    return (tonumber(tat) - last) * limit + tonumber(rem), last, limit
  end
end

local function serialize(used, last, limit)
  local q = idiv(used, limit)
  return format('gcra %d %d %d %d', last + q, used - q * limit, limit, last)
end
