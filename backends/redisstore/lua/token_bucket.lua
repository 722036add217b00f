-- token_bucket: string "token_bucket <used> <last> <limit>", the mirror of
-- core/rate/token_bucket.go: used = used units × period (µs), refilled at `limit` per µs from
-- `last`, the time of the last change, at the limit that change was made under. A policy
-- change keeps the units used (remaining = new limit − used): no signature is needed.
-- bucket.lua holds the arithmetic, shared with gcra.

local function parse(v) -- used, last, limit; nil for another algorithm's state
  local used, last, limit = match(v, '^token_bucket (%d+) (%d+) (%d+)$')
  if used then
    return tonumber(used), tonumber(last), tonumber(limit)
  end
end

local function serialize(used, last, limit)
  return format('token_bucket %d %d %d', used, last, limit)
end
