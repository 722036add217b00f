package rate

// slidingWindow is the arithmetic of sliding_window, the mirror of lua/sliding_window.lua:
// the exact log of admission times, one entry per admitted request with its units. The log
// grows with the requests admitted and is trimmed as they leave the window, never sized by
// the limit or the cost (SPEC section 1); a change of limit keeps every admission, above a
// lower limit too. Consumes beyond full may put up to twice the limit in the window (see
// debtFactor): a check then waits until enough of them have left it.
//
// Every decision but a peek first drops the admissions that have left the window (drop),
// admitted or denied, so that each admission is read once after it expires: a decision
// costs amortised O(1) per admission ever made, however long the client is denied (by
// another window, a cooldown, a window consumed beyond full) or admitted by checks that
// never consume. A peek only counts them (load): it walks at most what the log held at the
// key's last other decision.
type slidingWindow struct{}

func (slidingWindow) drop(s *windowState, now int64) {
	if s.log == nil {
		return
	}
	if s.log.dropThrough(max(now, s.log.newest()) - s.period()); s.log.len() == 0 {
		s.log = nil
	}
}

func (slidingWindow) load(s *windowState, w *Window, now, cost int64, v *windowView) {
	period := w.Period.Microseconds()
	*v = windowView{t: now, ok: true}
	if s.log != nil {
		v.t = max(now, s.log.newest())
		v.gone = s.log.unitsThrough(v.t - period) // the admissions that left the window
		v.used = s.log.len() - v.gone
	}
	if v.used+cost > w.Limit {
		// The oldest used+cost−limit units in the window must leave it first.
		v.ok, v.retry = false, s.log.at(v.gone+v.used+cost-w.Limit-1)+period-v.t
	}
}

func (slidingWindow) finish(s *windowState, w *Window, v *windowView, cost int64, consume bool) (int64, int64, bool) {
	short := false
	if consume {
		var used int64
		if used, short = debit(v.used, cost, debtFactor*w.Limit); used > v.used {
			if s.log == nil {
				s.log = new(timeLog)
			}
			s.log.push(v.t, used-v.used)
			v.used = used
		}
	}
	if v.used == 0 {
		return w.Limit, 0, short
	}
	return max(0, w.Limit-v.used), s.log.newest() + w.Period.Microseconds() - v.t, short
}

func (slidingWindow) expiry(s *windowState) int64 {
	if s.log == nil {
		return 0
	}
	return s.log.newest() + s.period()
}
