package rate

// slidingWindowCounter is the arithmetic of sliding_window_counter, the mirror of
// lua/sliding_window_counter.lua: Cloudflare's approximation of a sliding window by two
// counters. n counts the units of the aligned window k = ⌊last / period⌋ that holds last,
// the time of the last change, and prev those of window k − 1, kept in the state's limit
// field, which only the token bucket uses otherwise (see windowState).
//
// At a time t that is e µs into its aligned window, the sliding window (t − period, t]
// overlaps the previous aligned window for period − e µs, and is estimated to hold
// prev × (period − e) / period + n units, the previous window's units assumed spread
// evenly over it. A request of cost is admitted iff
//
//	n + cost ≤ limit  and  prev × (period − e) + (n + cost) × period ≤ limit × period,
//
// exactly, in integers: the second implies the first (never more than limit in an aligned
// window for takes), which is checked first, and the second is compared as prev × (period
// − e) > (limit − n − cost) × period, so that every product stays within 2^53 for the
// doubles of the Redis script (validation keeps limit × period ≤ 2^52, as for the token
// bucket; prev and n never exceed twice the largest limit of the window's length, which
// consumes beyond full reach, see debtFactor). A change of limit keeps both counts, above
// a lower limit too.
//
// A denied request waits until the previous window's weight has shrunk enough, or, when
// the current window cannot take cost more units at all, into the next window, where the
// current count becomes the weighted one: the wait, and the time until the window is full
// again, can reach two windows ahead (SPEC section 1).
type slidingWindowCounter struct{}

func (slidingWindowCounter) load(s *windowState, w *Window, now, cost int64, v *windowView) {
	period := w.Period.Microseconds()
	*v = windowView{t: max(now, s.last), ok: true}
	cur, prev := s.counts(v.t)
	v.used = cur
	start := v.t / period * period // of the aligned window that holds t
	switch {
	case cur+cost > w.Limit:
		v.ok, v.retry = false, earliest(start+period, period, cur, w.Limit-cost)-v.t
	case prev*(start+period-v.t) > (w.Limit-cur-cost)*period:
		v.ok, v.retry = false, earliest(start, period, prev, w.Limit-cur-cost)-v.t
	}
}

func (slidingWindowCounter) finish(s *windowState, w *Window, v *windowView, cost int64, consume bool) (int64, int64, bool) {
	period := w.Period.Microseconds()
	_, prev := s.counts(v.t)
	short := false
	if consume {
		var used int64
		if used, short = debit(v.used, cost, debtFactor*w.Limit); used > v.used {
			v.used = used
			s.n, s.limit, s.last = v.used, prev, v.t
		}
	}
	end := (v.t/period + 1) * period // of the aligned window that holds t
	remaining := max(0, w.Limit-v.used-ceilDiv(prev*(end-v.t), period))
	switch {
	case v.used > 0: // full once the current count's weight is gone, a window after it ends
		return remaining, end + period - v.t, short
	case prev > 0:
		return remaining, end - v.t, short
	}
	return remaining, 0, short
}

func (slidingWindowCounter) expiry(s *windowState) int64 {
	if s.n == 0 { // n ≥ 1 in every state an admission wrote
		return 0
	}
	return (s.last/s.period() + 2) * s.period()
}

// counts returns the units of the aligned window that holds t (t ≥ s.last) and of the one
// before it, for sliding_window_counter.
func (s *windowState) counts(t int64) (cur, prev int64) {
	switch t/s.period() - s.last/s.period() {
	case 0:
		return s.n, s.limit // prev
	case 1:
		return 0, s.n
	}
	return 0, 0
}

// earliest returns the first time in the aligned window that starts at start at which
// weighted × (period − e) ≤ room × period, e being the time into that window: when the
// weighted units (weighted ≥ 1) have left room units of the limit for a request. At the
// window's end the weight is 0, so the result is at most start + period.
func earliest(start, period, weighted, room int64) int64 {
	return start + period - room*period/weighted
}
