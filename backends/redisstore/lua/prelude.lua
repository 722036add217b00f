-- ratewarden: one decision in one round trip. Each algorithm's code is prelude.lua, then
-- window.lua and <algorithm>.lua, then decide.lua, which defines run, the entry point. Every
-- algorithm but sliding_window has, after window.lua, the fast block (fast.lua with the
-- algorithm's step: a block that decides the common calls on its own); token_bucket and
-- gcra put <algorithm>.lua (their parse and serialize) before the block and bucket.lua
-- after it (scripts.go lists the order). Two programs are made of that code
-- (scripts.go): a script, which ends with `return run()` and defines everything
-- again on every EVALSHA (but what follows the block, when the block answers); and a
-- function of a Redis Function library, which defines everything once, on its first call
-- after the library is loaded, and calls run on every FCALL (fast, the block, first). The arithmetic mirrors
-- core/<algorithm>.go and core/rate/penalty.go step for step; docs/redis.md describes the
-- keys.
--
-- Time is monotonic per key (SPEC section 1.5): each window, and the penalty, decides at
-- max(now, the time of its last change), so a server clock that steps back (an NTP step, a
-- failover to a host whose clock is behind) never refills, resets or lengthens a wait.
--
-- One script call decides a batch of d ≥ 1 requests, one after the other, as d calls of one
-- request each would (store.go batches concurrent decisions on one Redis: the script's own
-- cost — the call, its closures, TIME — is paid once per batch). The requests of a batch
-- share the arguments of their policies: each policy's are sent once per call, and each
-- request points at its policy's:
--
-- KEYS  every request's keys, request after request
-- ARGV  [1] d, then per request four arguments, R below, then every policy's arguments, P
--       below, policy after policy
-- (A function's keys and args, which it makes KEYS and ARGV.)
--
-- A request's keys: one key per window of its policy, in the policy's order, then the
-- penalty key when penalties are on. They share one hash tag, so they live in one Cluster
-- slot (a batch on Cluster holds one request).
-- A request's arguments, R:
--       [1]  the position in ARGV of its policy's arguments (of their first, P[1])
--       [2]  now in µs, or "" to read the server's TIME (the only production mode)
--       [3]  cost          [4] op (core/rate.Op): "0" take, "1" check, "2" consume, "3" peek
-- A policy's arguments, P:
--       [1]  signature                                    [2] number of windows n
--       [1+2i], [2+2i]     limit and period (µs) of window i
--       [3+2n] "0" when penalties are off; else the number c of cooldowns, followed by the
--              violation log capacity, the penalty period (µs), the threshold, and the c
--              cooldowns (µs) started by the threshold-th, (threshold+1)-th, … violation
--              (the last one repeats).
--
-- The ops (core/rate/store.go): take admits if every window and the penalty allow, then
-- consumes; check decides the same but consumes nothing; consume counts the cost in every
-- window, beyond full up to twice the limit (debit), leaving the penalty alone; peek
-- answers as take would and writes nothing. Each algorithm's load only reads and its
-- finish writes only when it counts units, so that a check that admits, every peek and a
-- consume that counts nothing leave the windows as they were; the penalty step of a peek
-- only reads.
-- Reply, request after request: {allowed, cooldown µs, violations, then per window:
--        allowed, remaining, reset-after µs, retry-after µs}; allowed is -1, and the rest
--        zeros, for a request the script failed on (decide.lua). For a consume, allowed is 1 when the cost was
--        counted in full in every window (0 when a window's cap cut it short).
--
-- Lua numbers are doubles, exact for integers up to 2^53; core's validation keeps every
-- number the scripts form within that bound (core/rate/policy.go). Integer division goes through idiv, never a
-- bare math.floor(a / b). Numbers passed to redis.call are printed exactly by Redis;
-- inside strings they go through string.format('%d'), never tostring or .. (which keep
-- only 14 digits).

-- Globals used on every call, as locals (a global lookup is a table lookup).
local rcall, rpcall = redis.call, redis.pcall
local floor, max, min = math.floor, math.max, math.min
local format, match = string.format, string.match
local tonumber, type = tonumber, type

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
