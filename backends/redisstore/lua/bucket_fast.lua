-- The common call of token_bucket and gcra, decided without the machinery of run: one
-- request, whose policy has one window and no penalty. A script runs all its code on every
-- EVALSHA: each closure it defines, and each local a closure captures, is made again on
-- every call, and that costs Redis more than this decision does. So this block comes after
-- the few helpers it calls (prelude.lua, parse and serialize) and before the code only the
-- other calls need (window.lua, bucket.lua's load and finish, decide.lua), and answers
-- without defining it. It is load, then finish, of bucket.lua for one window, step for
-- step, with window.lua's debit and ttl written out (keep them in step), and answers as
-- run would; every other call breaks out, to run.
--
-- scripts.go places it twice: in a script, as code of the script's own chunk, where break
-- goes on to the rest of the script, and which defines no closure; in the Redis Function
-- library, as the body of a function, fast, that each call tries before run.
repeat
  if ARGV[1] ~= '1' then
    break
  end
  local p = tonumber(ARGV[2])
  if ARGV[p + 1] ~= '1' or ARGV[p + 4] ~= '0' then
    break
  end
  local at = ARGV[3]
  if at ~= '' then
    now, slack = tonumber(at), 3600000
  else
    local tm = rcall('TIME')
    now, slack = tonumber(tm[1]) * 1000000 + tonumber(tm[2]), 0
  end
  cost, op = tonumber(ARGV[4]), ARGV[5]
  local key, limit, period = KEYS[1], tonumber(ARGV[p + 2]), tonumber(ARGV[p + 3])

  -- load
  local used, rate, t = 0, 0, now
  local v = rpcall('GET', key)
  if type(v) == 'string' then
    local u, last, old = parse(v)
    if u then
      t, rate = max(now, last), old
      if u > 0 then
        local elapsed = t - last
        if elapsed >= ceildiv(u, old) then
          u = 0
        else
          u = u - elapsed * old
        end
      end
      used = u
    end
  end
  local ok, retry = true, 0
  local room = (limit - cost) * period
  if used > room then
    ok, retry = false, ceildiv(used - room, rate)
  end

  -- finish
  local short, counted = false, false
  if op == '2' or (ok and op == '0') then
    local u, c, capacity = nil, cost * period, 2 * limit * period
    if used <= capacity - c then -- debit (window.lua)
      u = used + c
    else
      u, short = max(used, capacity), true
    end
    if u > used then
      used, rate, counted = u, limit, true
    end
  end
  local reset = ceildiv(used, rate)
  if counted then
    -- ttl(t + reset) (window.lua). A Redis error (out of memory under noeviction, say)
    -- fails the request, as run's pcall does.
    local r = rpcall('SET', key, serialize(used, t, limit), 'PX', ceildiv(t + reset - now, 1000) + slack)
    if r.err then
      redis.log(redis.LOG_WARNING, 'ratewarden: a decision on ' .. key .. ' failed: ' .. tostring(r.err))
      return {-1, 0, 0, 0, 0, 0, 0}
    end
  end
  return {((ok or op == '2') and not short) and 1 or 0, 0, 0, ok and 1 or 0,
    idiv(max(0, limit * period - used), period), reset, retry}
until true
