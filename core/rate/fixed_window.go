package rate

// fixedWindow is the arithmetic of fixed_window, the mirror of lua/fixed_window.lua: n
// units counted in the aligned window [k × period, (k+1) × period) that holds last, up to
// twice the limit after consumes beyond full (see debtFactor). A change of limit keeps the
// count, above a lower limit too.
type fixedWindow struct{}

func (fixedWindow) load(s *windowState, w *Window, now, cost int64, v *windowView) {
	period := w.Period.Microseconds()
	*v = windowView{t: max(now, s.last), ok: true}
	if s.n > 0 && v.t/period == s.last/period {
		v.used = s.n
	}
	if v.used+cost > w.Limit {
		v.ok, v.retry = false, (v.t/period+1)*period-v.t
	}
}

func (fixedWindow) finish(s *windowState, w *Window, v *windowView, cost int64, consume bool) (int64, int64, bool) {
	period := w.Period.Microseconds()
	short := false
	if consume {
		var used int64
		if used, short = debit(v.used, cost, debtFactor*w.Limit); used > v.used {
			v.used = used
			s.n, s.last = v.used, v.t
		}
	}
	return max(0, w.Limit-v.used), (v.t/period+1)*period - v.t, short
}

func (fixedWindow) expiry(s *windowState) int64 {
	if s.n == 0 {
		return 0
	}
	return (s.last/s.period() + 1) * s.period()
}
