package rate

// slidingWindow is the arithmetic of sliding_window, the mirror of lua/sliding_window.lua:
// the exact log of admission times, one entry per admitted request with its units. The log
// grows with the requests admitted and is trimmed as they leave the window, never sized by
// the limit or the cost (SPEC section 1); a change of limit keeps every admission, above a
// lower limit too.
var slidingWindow = windowAlgorithm{
	load: func(s *windowState, w *Window, now, cost int64) windowView {
		period := w.Period.Microseconds()
		v := windowView{t: now, ok: true}
		if s.log != nil {
			v.t = max(now, s.log.newest())
			s.log.dropThrough(v.t - period) // the admissions that left the window
			if s.log.len() == 0 {
				s.log = nil
			}
		}
		if s.log != nil {
			v.used = s.log.len()
		}
		if v.used+cost > w.Limit {
			// The oldest used+cost−limit units must leave the window first.
			v.ok, v.retry = false, s.log.at(v.used+cost-w.Limit-1)+period-v.t
		}
		return v
	},
	finish: func(s *windowState, w *Window, v windowView, cost int64, consume bool) (int64, int64) {
		if consume {
			if s.log == nil {
				s.log = new(timeLog)
			}
			s.log.push(v.t, cost)
			v.used += cost
		}
		if v.used == 0 {
			return w.Limit, 0
		}
		return max(0, w.Limit-v.used), s.log.newest() + w.Period.Microseconds() - v.t
	},
	expiry: func(s *windowState) int64 {
		if s.log == nil {
			return 0
		}
		return s.log.newest() + s.period
	},
}
