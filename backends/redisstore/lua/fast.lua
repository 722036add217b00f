-- The common calls of every algorithm, decided without the machinery of run: a call (one
-- request, or a batch of them) whose every request's policy has one window and no penalty.
-- A script runs all its code on every EVALSHA: each closure it defines, and each local a
-- closure captures, is made again on every call, and that costs Redis more than one
-- decision does; and the driver, per request, makes a table per window, calls decide under
-- pcall and looks its policy's arguments up again. So this block comes right after
-- prelude.lua's locals, before any closure (helpers.lua, the algorithm's load and finish,
-- decide.lua), and answers without defining one: it calls no helper, and writes out what
-- helpers.lua's begin_request, idiv, ceildiv, debit and ttl compute (a token bucket's lone
-- call on a fresh key cost Redis 9.0–9.7 µs with the helpers defined before the block,
-- 7.8–8.5 with none: docs/redis.md, "Measured"). For each request it runs the algorithm's
-- step (lua/<step>_step.lua, put where the marker line below is): its load, then finish,
-- for one window, step for step (keep them in step), and it answers as run would, request
-- after request; a call with any other request (several windows, a penalty) breaks out, to
-- run, before deciding anything.
--
-- A step decides the request on key, its policy's only window (limit, period), at now
-- with cost and op, and sets: ok and retry (load's verdict and wait), short (a consume
-- the cap cut short), remaining and reset (finish's answer), and, when it counted units
-- (nil otherwise), state, the string to write, and expires, the instant (µs) from which it
-- is a fresh key's: the block writes it with that TTL. A step whose state is not a string
-- (sliding_window's sorted set) writes it itself, with pcall where Redis may refuse (out
-- of memory), leaves state nil (the block sets the set's TTL from expires), and sets
-- failed to Redis's error when a write failed.
-- It reads and writes nothing else of the block's, and never breaks. Its divisions are
-- helpers.lua's idiv and ceildiv written out, the same operations in the same order, so
-- that block and driver agree on every input, numbers past 2^53 in another program's
-- state included.
--
-- scripts.go places the block twice: in a script, as code of the script's own chunk, where
-- break goes on to the rest of the script; in the Redis Function library, as the body of
-- a function, fast, that each call tries before run.
repeat
  local last = 4 * tonumber(ARGV[1]) -- the last request's arguments end at ARGV[last + 1]
  -- Every request's policy has one window and no penalty? Each policy is checked once (a
  -- batch's requests point at the same string while they share a policy).
  local p, simple = nil, true
  for a = 2, last, 4 do
    if ARGV[a] ~= p then
      p = ARGV[a]
      local i = tonumber(p)
      if ARGV[i + 1] ~= '1' or ARGV[i + 4] ~= '0' then
        simple = false
        break
      end
    end
  end
  if not simple then
    break
  end
  local out, o, k = {}, 0, 0 -- the reply, its values, the request's key
  local server_now -- the server's TIME in µs, read once per call, when a request asks for it
  local limit, period
  p = nil
  for a = 2, last, 4 do
    if ARGV[a] ~= p then -- the policy's limit and period
      p = ARGV[a]
      local i = tonumber(p)
      limit, period = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    end
    -- The request's instant, cost and op, as begin_request sets them.
    local now, slack
    local instant = ARGV[a + 1]
    if instant ~= '' then
      now, slack = tonumber(instant), 3600000
    else
      if not server_now then
        local tm = rcall('TIME')
        server_now = tonumber(tm[1]) * 1000000 + tonumber(tm[2])
      end
      now, slack = server_now, 0
    end
    local cost, op = tonumber(ARGV[a + 2]), ARGV[a + 3]
    k = k + 1
    local key = KEYS[k] -- the request's only key

    local ok, retry, short, remaining, reset, state, expires, failed
    --STEP--
    -- The state's write, or the TTL of a set the step wrote, with PX = ttl(expires) =
    -- ceildiv(expires - now, 1000) + slack, as helpers.lua computes them. A Redis error
    -- (out of memory under noeviction, say) fails the request alone, as run's pcall does.
    if expires and not failed then
      local ms, q = expires - now, 0
      if not (ms <= 0) then
        q = floor(ms / 1000)
        local r = ms - q * 1000
        if r < 0 then q = q - 1 elseif r >= 1000 then q = q + 1 end
        if q * 1000 < ms then q = q + 1 end
      end
      local r
      if state then
        r = rpcall('SET', key, state, 'PX', q + slack)
      else
        r = rpcall('PEXPIRE', key, q + slack)
      end
      if type(r) == 'table' and r.err then
        failed = r.err
      end
    end
    if failed then
      redis.log(redis.LOG_WARNING, 'ratewarden: a decision on ' .. key .. ' failed: ' .. tostring(failed))
      out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6], out[o + 7] = -1, 0, 0, 0, 0, 0, 0
    else
      out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6], out[o + 7] =
        ((ok or op == '2') and not short) and 1 or 0, 0, 0, ok and 1 or 0, remaining, reset, retry
    end
    o = o + 7
  end
  return out
until true
