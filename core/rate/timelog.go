package rate

// timeLog is a ring of Unix-µs times in the order they were added, oldest first, that
// grows with what it holds: sliding_window keeps one time per admitted unit in it, the
// penalty one per violation. It starts empty with no storage, doubles when full and halves
// when at most a quarter is used, so its memory follows the entries it holds (amortised
// O(1) per entry) and never a limit. The zero value is an empty log.
type timeLog struct {
	ring []int64 // len is 0 or a power of two
	head int     // index of the oldest entry
	n    int
}

// minLogCap is the smallest ring a log allocates, and below which it never shrinks.
const minLogCap = 4

// len returns the number of entries.
func (l *timeLog) len() int { return l.n }

// at returns the i-th oldest entry (0 is the oldest); 0 ≤ i < len.
func (l *timeLog) at(i int) int64 { return l.ring[(l.head+i)&(len(l.ring)-1)] }

// newest returns the newest entry, or 0 when the log is empty.
func (l *timeLog) newest() int64 {
	if l.n == 0 {
		return 0
	}
	return l.at(l.n - 1)
}

// push adds k entries of time t, newest.
func (l *timeLog) push(t int64, k int64) {
	if need := l.n + int(k); need > len(l.ring) {
		l.resize(need)
	}
	mask := len(l.ring) - 1
	for i := int64(0); i < k; i++ {
		l.ring[(l.head+l.n)&mask] = t
		l.n++
	}
}

// dropThrough drops the entries at or before t (the oldest first, since times are added
// in order) and returns how many it dropped.
func (l *timeLog) dropThrough(t int64) int {
	dropped := 0
	for l.n > 0 && l.ring[l.head] <= t {
		l.head = (l.head + 1) & (len(l.ring) - 1)
		l.n--
		dropped++
	}
	l.shrink()
	return dropped
}

// dropOldest drops the k oldest entries (all of them when k ≥ len).
func (l *timeLog) dropOldest(k int) {
	k = min(k, l.n)
	if k <= 0 {
		return
	}
	l.head = (l.head + k) & (len(l.ring) - 1)
	l.n -= k
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
	ring := make([]int64, size)
	for i := 0; i < l.n; i++ {
		ring[i] = l.at(i)
	}
	l.ring, l.head = ring, 0
}
