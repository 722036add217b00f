-- token_bucket: string 't' <used> <last> <limit> (25 bytes, prelude.lua), the mirror of
-- core/rate/token_bucket.go: used = used units × period (µs), refilled at `limit` per µs from
-- `last`, the time of the last change, at the limit that change was made under. A policy
-- change keeps the units used (remaining = new limit − used): no signature is needed.
-- bucket.lua holds the arithmetic, shared with gcra.
--
-- Two snippets, not functions (a closure costs a script on every call, fast.lua): scripts.go
-- puts them in place of bucket.lua's and bucket_step.lua's marker lines. Decode sets u,
-- lastc and old (used, last, limit) from the state v, and leaves u nil for another
-- algorithm's state, or a state no version writes (a limit below 1 or past 2^53, used past
-- 2^53, which validation's limit × period ≤ 2^52 and the cap of twice it never reach, a
-- time past 2^53): another program's, decided fresh and replaced. Encode, after the marker
-- line, sets state from used, t and limit.
if #v == 25 then
  local tag
  tag, u, lastc, old = unpack('<BI8I8I8', v)
  if tag ~= 116 or old < 1 or old > max_exact or u > max_exact or lastc > max_exact then -- 116: 't'
    u = nil
  end
end
--ENCODE--
state = pack('<BI8I8I8', 116, used, t, limit)
