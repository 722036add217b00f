-- The common calls of token_bucket and gcra, decided without the machinery of run: a call
-- (one request, or a batch of them) whose every request's policy has one window and no
-- penalty. A script runs all its code on every EVALSHA: each closure it defines, and each
-- local a closure captures, is made again on every call, and that costs Redis more than
-- one decision does; and the driver, per request, makes a table per window and looks its
-- policy's arguments up again. So this block comes after the few helpers it calls
-- (prelude.lua, parse and serialize) and before the code only the other calls need
-- (window.lua, bucket.lua's load and finish, decide.lua), and answers without defining it.
-- For each request it is load, then finish, of bucket.lua for one window, step for step,
-- with window.lua's debit and ttl written out (keep them in step), and it answers as run
-- would, request after request; a call with any other request (several windows, a
-- penalty) breaks out, to run, before deciding anything.
--
-- scripts.go places it twice: in a script, as code of the script's own chunk, where break
-- goes on to the rest of the script, and which defines no closure; in the Redis Function
-- library, as the body of a function, fast, that each call tries before run.
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
  local server_us -- the server's TIME, read once, when a request asks for it
  local limit, period
  p = nil
  for a = 2, last, 4 do
    if ARGV[a] ~= p then -- the policy's limit and period
      p = ARGV[a]
      local i = tonumber(p)
      limit, period = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    end
    local at = ARGV[a + 1]
    if at ~= '' then
      now, slack = tonumber(at), 3600000
    else
      if not server_us then
        local tm = rcall('TIME')
        server_us = tonumber(tm[1]) * 1000000 + tonumber(tm[2])
      end
      now, slack = server_us, 0
    end
    cost, op = tonumber(ARGV[a + 2]), ARGV[a + 3]
    k = k + 1
    local key = KEYS[k] -- the request's only key

    -- load
    local used, rate, t = 0, 0, now
    local v = rpcall('GET', key)
    if type(v) == 'string' then
      local u, lastc, old = parse(v)
      if u then
        t, rate = max(now, lastc), old
        if u > 0 then
          local elapsed = t - lastc
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
    local failed = false
    if counted then
      -- ttl(t + reset) (window.lua). A Redis error (out of memory under noeviction, say)
      -- fails the request alone, as run's pcall does.
      local r = rpcall('SET', key, serialize(used, t, limit), 'PX', ceildiv(t + reset - now, 1000) + slack)
      if r.err then
        redis.log(redis.LOG_WARNING, 'ratewarden: a decision on ' .. key .. ' failed: ' .. tostring(r.err))
        failed = true
      end
    end
    if failed then
      out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6], out[o + 7] = -1, 0, 0, 0, 0, 0, 0
    else
      out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6], out[o + 7] =
        ((ok or op == '2') and not short) and 1 or 0, 0, 0, ok and 1 or 0,
        idiv(max(0, limit * period - used), period), reset, retry
    end
    o = o + 7
  end
  return out
until true
