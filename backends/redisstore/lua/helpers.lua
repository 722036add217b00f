-- Helpers of the driver (decide.lua) and of every algorithm's load and finish. The fast
-- block (fast.lua), which comes before them, calls none of them: it writes their
-- arithmetic out.

local function idiv(a, b) -- floor(a / b), exactly, for integers |a| < 2^53 and b > 0
  local q = floor(a / b)
  local r = a - q * b
  if r < 0 then
    q = q - 1
  elseif r >= b then
    q = q + 1
  end
  return q
end

local function ceildiv(a, b) -- core's ceilDiv: ceil(a / b), and 0 when a <= 0
  if a <= 0 then
    return 0
  end
  local q = idiv(a, b)
  if q * b < a then
    q = q + 1
  end
  return q
end

-- The request being decided: its keys are KEYS[ko + 1], KEYS[ko + 2], …, its policy's
-- arguments ARGV[pol], ARGV[pol + 1], … (P above), of which pen is the position of the
-- penalty settings (P[3+2n]); and its instant now, cost and op (R above).
local ko, pol, pen, now, cost, op
-- TTLs are in ms, rounded up from µs: ceildiv(us, 1000) + slack. With injected instants
-- (test mode) keys still expire by the server's clock, which the instants do not follow:
-- give them an hour of slack so that no state a test still uses expires under it.
local slack
local server_now -- the server's TIME in µs, read once per call, when a request asks for it

-- begin_request sets now, slack, cost and op from the arguments R of the request at
-- ARGV[a]: its instant, or the server's TIME, read once per call (the caller resets
-- server_now at the call's start).
local function begin_request(a)
  local t = ARGV[a + 1]
  if t ~= '' then
    now, slack = tonumber(t), 3600000
  else
    if not server_now then
      local tm = rcall('TIME')
      server_now = tonumber(tm[1]) * 1000000 + tonumber(tm[2])
    end
    now, slack = server_now, 0
  end
  cost, op = tonumber(ARGV[a + 2]), ARGV[a + 3]
end

-- debit is core's debit: used + c capped at capacity, never below used, and whether the cap
-- left part of c uncounted. A consume counts up to capacity = 2 × limit units (core's
-- debtFactor), ≤ 2^53; used is compared with capacity − c so that no larger sum is formed.
local function debit(used, c, capacity)
  if used <= capacity - c then
    return used + c, false
  end
  return max(used, capacity), true
end

-- ttl is the PX of state that is fresh again at the instant untilUs (µs): measured from the
-- server's now, which may be earlier than the instants the state was decided at.
local function ttl(untilUs)
  return ceildiv(untilUs - now, 1000) + slack
end
