package core

// The arithmetic of one window under each algorithm, in Unix microseconds. The Redis
// scripts in backends/redisstore mirror these functions; docs/algorithms.md explains them.
//
// State layouts (int64 elements):
//
//	token_bucket   [level, last]         level = tokens × period(µs), so refill is exact
//	gcra           [tat]                 theoretical arrival time
//	fixed_window   [index, count]        index = now / period
//	sliding_window [head, n, ring...]    ring of `limit` admission times, oldest at head

func windowStateSize(alg Algorithm, w Window) int {
	switch alg {
	case GCRA:
		return 1
	case SlidingWindow:
		return 2 + int(ringSize(w))
	default:
		return 2
	}
}

func initWindow(alg Algorithm, w Window, st []int64) {
	if alg == TokenBucket {
		st[0] = w.Limit * w.Period.Microseconds() // a fresh bucket is full
	}
}

// ringSize is the number of admission times a sliding window keeps: its limit, or the
// larger capacity the rule's other tiers need, so that a client switching tiers keeps every
// admission it made.
func ringSize(w Window) int64 { return max(w.Limit, w.Capacity) }

// refreshWindow brings st up to now: refill, expiry, a new fixed window. It changes no
// decision, only the representation.
func refreshWindow(alg Algorithm, w Window, st []int64, now int64) {
	period := w.Period.Microseconds()
	switch alg {
	case TokenBucket:
		if elapsed := now - st[1]; elapsed > 0 {
			st[0] = min(w.Limit*period, st[0]+min(elapsed, period)*w.Limit)
			st[1] = now
		}
	case FixedWindow:
		if index := now / period; st[0] != index {
			st[0], st[1] = index, 0
		}
	case SlidingWindow:
		ring, size := st[2:], ringSize(w)
		for st[1] > 0 && ring[st[0]] <= now-period {
			st[0] = (st[0] + 1) % size
			st[1]--
		}
	}
}

// checkWindow reports whether the refreshed window admits cost units at now and, if not,
// how many microseconds until it would.
func checkWindow(alg Algorithm, w Window, st []int64, now, cost int64) (ok bool, retryAfter int64) {
	period, limit := w.Period.Microseconds(), w.Limit
	switch alg {
	case TokenBucket:
		need := cost * period
		return st[0] >= need, ceilDiv(need-st[0], limit)
	case GCRA:
		interval := gcraInterval(limit, period)
		wait := max(st[0], now) + cost*interval - now - limit*interval
		return wait <= 0, wait
	case FixedWindow:
		return st[1]+cost <= limit, (st[0]+1)*period - now
	default:
		n := st[1]
		if n+cost <= limit {
			return true, 0
		}
		// The oldest n+cost-limit admissions must leave the window first.
		return false, st[2+(st[0]+n+cost-limit-1)%ringSize(w)] + period - now
	}
}

// consumeWindow takes cost units; it follows a checkWindow at the same now that allowed.
func consumeWindow(alg Algorithm, w Window, st []int64, now, cost int64) {
	switch alg {
	case TokenBucket:
		st[0] -= cost * w.Period.Microseconds()
	case GCRA:
		st[0] = max(st[0], now) + cost*gcraInterval(w.Limit, w.Period.Microseconds())
	case FixedWindow:
		st[1] += cost
	default:
		ring, size := st[2:], ringSize(w)
		for i := int64(0); i < cost; i++ {
			ring[(st[0]+st[1]+i)%size] = now
		}
		st[1] += cost
	}
}

// statusWindow reports the units left in the refreshed window and the microseconds until
// it is full again.
func statusWindow(alg Algorithm, w Window, st []int64, now int64) (remaining, resetAfter int64) {
	period, limit := w.Period.Microseconds(), w.Limit
	switch alg {
	case TokenBucket: // the level is below 0 only after a migration to a lower limit
		return max(0, st[0]) / period, ceilDiv(limit*period-st[0], limit)
	case GCRA:
		interval := gcraInterval(limit, period)
		debt := max(st[0], now) - now
		return max(0, limit*interval-debt) / interval, debt // below 0 only after a reload lowered the limit
	case FixedWindow:
		return max(0, limit-st[1]), (st[0]+1)*period - now
	default:
		n := st[1]
		if n == 0 {
			return limit, 0
		}
		return max(0, limit-n), st[2+(st[0]+n-1)%ringSize(w)] + period - now
	}
}

// gcraInterval is the emission interval: the whole microseconds one unit stands for. The
// burst tolerance is limit × interval, so a fresh key admits exactly limit units at once.
func gcraInterval(limit, period int64) int64 { return period / limit }

// migrateWindow carries the units used in a window with the same period from an older
// policy whose limit may differ. Usage above the new limit is kept, as a negative token
// level, a count above the limit or extra admission times, so that switching policies back
// and forth never grants units.
func migrateWindow(alg Algorithm, w Window, dst []int64, old Window, src []int64, now int64) {
	period := w.Period.Microseconds()
	switch alg {
	case TokenBucket:
		refreshWindow(alg, old, src, now)
		used := old.Limit*period - src[0]
		dst[0], dst[1] = w.Limit*period-used, src[1]
	case GCRA:
		oldInterval, interval := gcraInterval(old.Limit, period), gcraInterval(w.Limit, period)
		if debt := src[0] - now; debt > 0 {
			dst[0] = now + ceilDiv(debt, oldInterval)*interval
		}
	case FixedWindow:
		dst[0], dst[1] = src[0], src[1]
	case SlidingWindow: // keep the newest admission times that fit, oldest first
		oldSize := ringSize(old)
		n := min(src[1], ringSize(w))
		for i := int64(0); i < n; i++ {
			dst[2+i] = src[2+(src[0]+src[1]-n+i)%oldSize]
		}
		dst[0], dst[1] = 0, n
	}
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
