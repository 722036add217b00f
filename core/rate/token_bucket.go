package rate

import "math/bits"

// tokenBucket is the arithmetic of token_bucket (and of gcra, which admits the same; see
// Algorithm.load), the mirror of lua/token_bucket.lua.
//
// The state counts the units in use rather than the tokens left: n = used units × period
// (µs), which the bucket refills at limit per µs, so that every step is exact in integers
// and a change of limit needs no conversion: the units used stay used, and remaining =
// limit − used (SPEC section 1.5). A fresh bucket has n = 0; it is full again
// ceil(n / limit) µs after its last change. A consume beyond full leaves n above limit ×
// period, up to twice it (see debtFactor): the bucket then refills from below zero, and
// admits again once n ≤ (limit − cost) × period. Validation keeps limit × period ≤ 2^52,
// so that n stays exact in the doubles of the Redis scripts too.
type tokenBucket struct{}

func (tokenBucket) load(s *windowState, w *Window, now, cost int64, v *windowView) {
	*v = windowView{t: max(now, s.last), used: s.n, ok: true}
	if s.n > 0 { // refill since the last change, at the limit it was made under
		if elapsed := v.t - s.last; drained(elapsed, s.n, s.limit) {
			v.used = 0
		} else {
			v.used -= elapsed * s.limit
		}
	}
	period := w.Period.Microseconds()
	if room := (w.Limit - cost) * period; v.used > room {
		// Until the next admission the bucket refills at the limit of its last change,
		// which may differ from this policy's: the wait is counted at that rate.
		v.ok, v.retry = false, ceilDiv(v.used-room, s.limit)
	}
}

func (tokenBucket) finish(s *windowState, w *Window, v *windowView, cost int64, consume bool) (int64, int64, bool) {
	period := w.Period.Microseconds()
	short := false
	if consume {
		var used int64
		used, short = debit(v.used, cost*period, debtFactor*w.Limit*period)
		if used > v.used {
			v.used = used
			s.n, s.last, s.limit = v.used, v.t, w.Limit
		}
	}
	return max(0, w.Limit*period-v.used) / period, ceilDiv(v.used, s.limit), short // s.limit is 0 only when used is
}

func (tokenBucket) expiry(s *windowState) int64 {
	if s.n == 0 {
		return 0
	}
	return s.last + ceilDiv(s.n, s.limit)
}

// drained reports whether a bucket of n used units × period (n > 0), refilled at limit per
// µs, is empty after elapsed µs (elapsed ≥ 0): elapsed ≥ ceil(n / limit), computed as
// elapsed × limit ≥ n in 128 bits. The same answer without a 64-bit division, which costs
// more than the rest of the refill on the decision path.
func drained(elapsed, n, limit int64) bool {
	hi, lo := bits.Mul64(uint64(elapsed), uint64(limit))
	return hi > 0 || lo >= uint64(n)
}
