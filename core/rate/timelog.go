package rate

// timeLog is a ring of Unix-µs times in the order they were added, oldest first, each with
// a count of units: sliding_window keeps one entry per admitted request (a request of cost
// k is one entry of k units, so its state grows with requests, never with the limit or the
// cost), the penalty one per violation. Entries of the same time are merged. It starts
// empty with no storage, doubles when full and halves when at most a quarter is used, so
// its memory follows the entries it holds (amortised O(1) per entry). The zero value is an
// empty log.
type timeLog struct {
	ring  []logEntry // len is 0 or a power of two
	head  int        // index of the oldest entry
	n     int        // entries
	units int64      // units of all entries
}

type logEntry struct{ t, units int64 }

// minLogCap is the smallest ring a log allocates, and below which it never shrinks.
const minLogCap = 2

// len returns the number of units.
func (l *timeLog) len() int64 { return l.units }

func (l *timeLog) entry(i int) *logEntry { return &l.ring[(l.head+i)&(len(l.ring)-1)] }

// at returns the time of the i-th oldest unit (0 is the oldest); 0 ≤ i < len. It walks the
// entries from the nearer end.
func (l *timeLog) at(i int64) int64 {
	if i < l.units/2 {
		for j := 0; ; j++ {
			e := l.entry(j)
			if i < e.units {
				return e.t
			}
			i -= e.units
		}
	}
	i = l.units - 1 - i // from the newest
	for j := l.n - 1; ; j-- {
		e := l.entry(j)
		if i < e.units {
			return e.t
		}
		i -= e.units
	}
}

// newest returns the newest time, or 0 when the log is empty.
func (l *timeLog) newest() int64 {
	if l.n == 0 {
		return 0
	}
	return l.entry(l.n - 1).t
}

// unitsThrough returns the units of time t or before (the oldest ones), walking only
// their entries.
func (l *timeLog) unitsThrough(t int64) int64 {
	var units int64
	for j := 0; j < l.n; j++ {
		e := l.entry(j)
		if e.t > t {
			break
		}
		units += e.units
	}
	return units
}

// push adds k units of time t, newest.
func (l *timeLog) push(t, k int64) {
	l.units += k
	if l.n > 0 {
		if e := l.entry(l.n - 1); e.t == t {
			e.units += k
			return
		}
	}
	if l.n == len(l.ring) {
		l.resize(l.n + 1)
	}
	l.n++
	*l.entry(l.n - 1) = logEntry{t, k}
}

// dropThrough drops the units of time t or before (the oldest entries, since times are
// added in order).
func (l *timeLog) dropThrough(t int64) {
	for l.n > 0 && l.ring[l.head].t <= t {
		l.units -= l.ring[l.head].units
		l.head = (l.head + 1) & (len(l.ring) - 1)
		l.n--
	}
	l.shrink()
}

// dropOldest drops the k oldest units (all of them when k ≥ len).
func (l *timeLog) dropOldest(k int64) {
	for k > 0 && l.n > 0 {
		e := &l.ring[l.head]
		if e.units > k {
			e.units -= k
			l.units -= k
			break
		}
		k -= e.units
		l.units -= e.units
		l.head = (l.head + 1) & (len(l.ring) - 1)
		l.n--
	}
	l.shrink()
}

// shrink halves the ring while at most a quarter of it is used, and frees it when empty.
func (l *timeLog) shrink() {
	switch {
	case l.n == 0:
		l.ring, l.head = nil, 0
	case len(l.ring) > minLogCap && l.n <= len(l.ring)/4:
		l.resize(2 * l.n) // half full: a push right after does not grow it again
	}
}

// resize moves the entries into a new ring of the smallest power of two ≥ max(need,
// minLogCap), oldest at index 0.
func (l *timeLog) resize(need int) {
	size := minLogCap
	for size < need {
		size <<= 1
	}
	ring := make([]logEntry, size)
	for i := 0; i < l.n; i++ {
		ring[i] = *l.entry(i)
	}
	l.ring, l.head = ring, 0
}
