-- token_bucket: string "token_bucket <used> <last> <limit>", the mirror of
-- core/rate/token_bucket.go: used = used units × period (µs), refilled at `limit` per µs from
-- `last`, the time of the last change, at the limit that change was made under. A policy
-- change keeps the units used (remaining = new limit − used): no signature is needed.
-- bucket.lua holds the arithmetic, shared with gcra.
--
-- Two snippets, not functions (a closure costs a script on every call, fast.lua): scripts.go
-- puts them in place of bucket.lua's and bucket_step.lua's marker lines. Decode sets u,
-- lastc and old (used, last, limit) from the state v, and leaves u nil for another
-- algorithm's state, or a state no version writes (a limit below 1, used past 2^53, which
-- validation's limit × period ≤ 2^52 and the cap of twice it never reach, a time past
-- 2^53): another
-- program's, decided fresh and replaced. Encode, after the marker line, sets state from
-- used, t and limit.
local tb_used, tb_last, tb_limit = match(v, '^token_bucket (%d+) (%d+) (%d+)$')
if tb_used then
  u, lastc, old = tonumber(tb_used), tonumber(tb_last), tonumber(tb_limit)
  if old < 1 or u > max_exact or lastc > max_exact then
    u = nil
  end
end
--ENCODE--
state = format('token_bucket %d %d %d', used, t, limit)
