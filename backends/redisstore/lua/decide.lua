-- The penalty: string "penalty <sig> <until> <t1,t2,…>", the violation times (µs) that may
-- still count, oldest first, at most `capacity` of them (core's penaltyState). Like core it
-- decides at max(now, the newest violation), drops expired violations only when it counts
-- a violation (never during a cooldown, whose newest violation started it and sets the time
-- it is decided at), and keeps the newest `capacity` when the policy changes.
--
-- penalty is the penalty step of a take or a check, peek that of a peek. A script defines
-- its closures again on every call, which costs Redis more the more they are (and the more
-- locals they capture): these are defined only by a call with penalties, on its first
-- request that has them (define_penalties).
local penalty, peek
local function define_penalties()
  local function read_penalty(key) -- signature, cooldown end, log, and the decision time t
    local v = rpcall('GET', key)
    local s, untilv, log
    if type(v) == 'string' then
      s, untilv, log = match(v, '^penalty (%w+) (%d+) ([%d,]*)$')
    end
    local newest = tonumber(log and match(log, '(%d+)$') or 0)
    untilv = tonumber(untilv) or 0
    -- A violation's time is at most 2^53; its cooldown ends at most max_cooldown (ten years,
    -- rate.MaxWindow) later, well below 2^54: anything later is another program's state.
    if untilv > 2 * max_exact or newest > max_exact then
      s, untilv, log, newest = nil, 0, nil, 0
    end
    return s, untilv, log, max(now, newest)
  end

  penalty = function(key, windowsAllow)
    local s, cooldownUntil, log, t = read_penalty(key)
    local sig = ARGV[pol]
    local migrate = s ~= nil and s ~= sig
    local left = cooldownUntil - t
    if left <= 0 and windowsAllow and not migrate then
      return true, 0, 0
    end
    local capacity, period, threshold = tonumber(ARGV[pen + 1]), tonumber(ARGV[pen + 2]), tonumber(ARGV[pen + 3])
    local times = {}
    if log then
      for t in string.gmatch(log, '%d+') do
        times[#times + 1] = t
      end
    end
    local changed = migrate
    local function drop(n) -- the n oldest
      if n > 0 then
        local kept = {}
        for i = n + 1, #times do
          kept[#kept + 1] = times[i]
        end
        times, changed = kept, true
      end
    end
    -- store writes the penalty with a TTL until the cooldown is over and every violation
    -- expired. A penalty already fresh at t is left as it is, to expire by its own TTL, as
    -- core keeps it until the key is swept.
    local function store()
      local newest = tonumber(times[#times] or '0')
      local fresh = max(cooldownUntil, newest + period)
      if fresh > t then
        rcall('SET', key, format('penalty %s %d %s', sig, cooldownUntil, table.concat(times, ',')), 'PX', ttl(fresh))
      end
    end
    if migrate then -- a new policy: keep the cooldown and the newest violations that fit
      drop(#times - capacity)
    end
    if left <= 0 and windowsAllow then
      store()
      return true, 0, 0
    end
    local expired = 0 -- the violations that no longer count
    while expired < #times and tonumber(times[expired + 1]) <= t - period do
      expired = expired + 1
    end
    if left > 0 then -- a cooldown is in force: denied, not counted, not extended
      if changed then
        store()
      end
      return false, left, #times - expired
    end
    drop(expired)
    -- A violation: log it, and start a cooldown once the threshold is reached.
    if #times == capacity then
      drop(1)
    end
    times[#times + 1] = format('%d', t)
    local n = #times
    local cooldown = 0
    if n >= threshold then
      cooldown = tonumber(ARGV[pen + 3 + min(n - threshold + 1, tonumber(ARGV[pen]))])
    end
    if cooldown > 0 then
      cooldownUntil = t + cooldown
    end
    store()
    return false, cooldown, n
  end

  -- peek is the penalty step of a peek, core's PenaltyPolicy.peek: it reads the penalty as
  -- penalty would see it and writes nothing. A cooldown in force denies; the violations are
  -- those that count at t, at most capacity (the newest ones), denied or not.
  peek = function(key, windowsAllow)
    local _, cooldownUntil, log, t = read_penalty(key)
    if not log then
      return windowsAllow, 0, 0
    end
    local capacity, period = tonumber(ARGV[pen + 1]), tonumber(ARGV[pen + 2])
    local counted = 0
    for v in string.gmatch(log, '%d+') do
      if tonumber(v) > t - period then
        counted = counted + 1
      end
    end
    counted = min(counted, capacity)
    local left = cooldownUntil - t
    if left > 0 then
      return false, left, counted
    end
    return windowsAllow, 0, counted
  end
end

-- decide appends the reply of the request being decided to out, from out[nout + 1] on:
-- load and check every window, then the penalty (not for a consume), then consume in
-- every window: for a take only if all of them (and the penalty) allow — a denial changes
-- no window —, for a consume always, up to each window's cap.
local nout -- the values in out
local function decide(out)
  local nwin = tonumber(ARGV[pol + 1])
  local allowed = true
  local windows = {}
  for i = 1, nwin do
    local w = load(KEYS[ko + i], tonumber(ARGV[pol + 2 * i]), tonumber(ARGV[pol + 1 + 2 * i]))
    if not w.ok then
      allowed = false
    end
    windows[i] = w
  end

  local cooldown, violations = 0, 0
  pen = pol + 2 + 2 * nwin
  if ARGV[pen] ~= '0' then
    if not penalty then
      define_penalties()
    end
    if op == '3' then
      allowed, cooldown, violations = peek(KEYS[ko + nwin + 1], allowed)
    elseif op ~= '2' then
      allowed, cooldown, violations = penalty(KEYS[ko + nwin + 1], allowed)
    end
  end

  local consume = op == '2' or (allowed and op == '0')
  -- A consume answers whether it counted its cost in full in every window.
  local first, o = nout + 1, nout + 3
  out[first], out[first + 1], out[o] = (allowed or op == '2') and 1 or 0, cooldown, violations
  for i = 1, nwin do
    local w = windows[i]
    local remaining, reset, short = finish(w, consume)
    if short then -- a consume's only: a take consumes what fits
      out[first] = 0
    end
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = w.ok and 1 or 0, remaining, reset, w.retry
    o = o + 4
  end
  nout = o
end

-- run decides the call's batch, request after request, and returns the reply. A request that
-- fails (a Redis error on one of its keys: a key another program wrote) answers -1 then
-- zeros, and the error goes to Redis's log: the other requests of the batch are decided as if
-- it had been alone. (Its writes before the error stand, as a failed script's would.)
-- The code above only defines: the script ends with `return run()`, and a Redis Function
-- calls run on every call with the helpers it defined once (functions.go), so run resets
-- what one call must not leave to the next (server_now).
local function run()
  server_now = nil
  local out = {}
  nout, ko = 0, 0
  for a = 2, 4 * tonumber(ARGV[1]), 4 do
    pol = tonumber(ARGV[a])
    begin_request(a)
    local start = nout
    local ok, err = pcall(decide, out)
    local nwin = tonumber(ARGV[pol + 1])
    if not ok then -- overwrites what decide wrote of its reply
      out[start + 1] = -1
      nout = start + 3 + 4 * nwin
      for i = start + 2, nout do
        out[i] = 0
      end
      if type(err) == 'table' then
        err = err.err
      end
      redis.log(redis.LOG_WARNING, 'ratewarden: a decision on ' .. KEYS[ko + 1] .. ' failed: ' .. tostring(err))
    end
    ko = ko + nwin
    if ARGV[pol + 2 + 2 * nwin] ~= '0' then
      ko = ko + 1
    end
  end
  return out
end
