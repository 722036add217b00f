-- Helpers of every algorithm's load and finish, and of the fast block's steps (fast.lua),
-- which comes after them.

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
