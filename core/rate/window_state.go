package rate

import "time"

// KeyState is what an in-process store keeps for one counter key ("<scope>:<id>:<rule>"):
// the state of each window length the key has been decided under, and its penalty.
// [Policy.Apply] reads and updates it.
//
// State is kept per window length, as the Redis store keys it (SPEC section 1.5): when the
// policy of a key changes — a reload, a token whose tier differs — a window of the same
// length keeps its state, a window of a new length starts its own, and a window the new
// policy lacks keeps its state for when a policy with that length comes back. Flipping
// between policies therefore never grants units. A key holds at most 8 window lengths; a
// ninth makes it forget those whose state has become a fresh window's.
//
// The zero value is a fresh key. A KeyState must not be copied after first use, and is not
// safe for concurrent use: stores guard it.
type KeyState struct {
	first     windowState // the first window length the key holds; secs 0 while it holds none
	more      *moreState  // nil until the key holds a second window length or a violation
	expiresAt int64       // Unix µs from which the whole state equals a fresh key's
}

// moreState is the part of a [KeyState] that most keys never need — a rule with one window
// length and no penalty needs none of it — held out of line, so that a memory store's key
// (its state, LRU links and a key of up to 32 bytes) fits in 128 bytes: the two cache lines
// one decision reads.
type moreState struct {
	windows []windowState // the window lengths beyond first
	penalty *penaltyState // nil until the key's first violation
}

// windowState is the state of one window length of one key, under any algorithm:
//
//	token_bucket, gcra  n = used units × period (µs), last, limit = the limit at last
//	fixed_window        n = count in the aligned window of last, last
//	sliding_window      log = one admission time per unit, oldest first
//	sliding_window_counter  n = count in the aligned window of last, last, limit = the
//	                    count of the window before it (a field of its own would cost
//	                    every key 16 bytes)
//
// last is the time of the window's last change; decisions are made at max(now, last), so a
// clock that steps back never refills, resets or lengthens a wait (SPEC section 1.5).
type windowState struct {
	secs  uint32 // the period in seconds (validation: whole seconds, at most MaxWindow); identifies the window
	alg   Algorithm
	n     int64
	last  int64
	limit int64
	log   *timeLog // sliding_window; nil while empty
}

// period is the window's period in µs.
func (s *windowState) period() int64 { return int64(s.secs) * 1e6 }

// windowSecs is the secs of w's state.
func windowSecs(w *Window) uint32 { return uint32(w.Period / time.Second) }

// windowView is one window seen at a decision's time, before anything is consumed.
type windowView struct {
	t     int64 // the window's decision time: max(now, its last change)
	used  int64 // token bucket: used units × period at t; the others: units counted at t
	ok    bool  // the window admits the request's cost
	retry int64 // when not ok, µs until it would
	gone  int64 // sliding window: the oldest units of the log, which have left the window at t
}

// The arithmetic of each algorithm on one window, in Unix microseconds, is a type of its
// own (tokenBucket, fixedWindow, slidingWindow, slidingWindowCounter), each the mirror of
// backends/redisstore/lua/<algorithm>.lua, with four methods that the methods of
// [Algorithm] below dispatch to: drop (a no-op but for the sliding window) forgets what no
// decision at now or later can count, load reads and checks, finish consumes (when consume
// is true) and reports, expiry says when the state equals a fresh window's. load never
// changes the state and finish changes it only to count units: an admitted OpCheck, every
// OpPeek, which finish with consume false, and a consume that counts nothing (its window
// at the cap) change no count and no time of last change, so they cannot change a later
// answer. Every op but OpPeek runs drop first, which removes only what the window no longer
// holds at the decision's time (the sliding log's entries that have left it, whose state
// is thereby unchanged as every later decision sees it); OpPeek runs no drop and writes
// nothing.
//
// finish counts cost with [debit], up to [debtFactor] × limit units: beyond full only for
// an [OpConsume] (a take consumes only what fits). short reports that the cap left part of
// cost uncounted.
//
// The dispatch is a switch rather than a table of function values: a CPU profile of the
// memory store's decision (1,000 keys, token bucket) showed a quarter of its time in the
// calls through function values and in copying the windowView they returned (stalled
// store-to-load forwarding); direct calls on a view written in place removed both.

// debtFactor bounds the units an [OpConsume] may count in a window: debtFactor × limit, so
// up to limit units beyond full. Every algorithm stays exact there in the doubles of the
// Redis scripts: a bucket's used units × period reach 2 × limit × period ≤ 2^53 (validation
// keeps limit × period ≤ 2^52, and so for the counter's weighted counts), a fixed window's
// count 2 × 2^52, and a sliding log holds at most 2 × [MaxSlidingLimit] units in its window.
const debtFactor = 2

// debit returns used + cost capped at capacity, never below used (a window already beyond
// the cap, from a policy with a larger limit, keeps its units), and whether the cap left
// part of cost uncounted. It compares used with capacity − cost, so that no sum beyond
// capacity is formed (capacity ≤ 2^53: exact in doubles too).
func debit(used, cost, capacity int64) (int64, bool) {
	if used <= capacity-cost {
		return used + cost, false
	}
	return max(used, capacity), true
}

// drop, load, finish and expiry run a's arithmetic. GCRA makes the same decisions as the
// token bucket (SPEC section 1): in process it shares its arithmetic; the Redis script
// stores it as a theoretical arrival time.
func (a Algorithm) drop(s *windowState, now int64) {
	if a == SlidingWindow {
		slidingWindow{}.drop(s, now)
	}
}

func (a Algorithm) load(s *windowState, w *Window, now, cost int64, v *windowView) {
	switch a {
	case TokenBucket, GCRA:
		tokenBucket{}.load(s, w, now, cost, v)
	case FixedWindow:
		fixedWindow{}.load(s, w, now, cost, v)
	case SlidingWindow:
		slidingWindow{}.load(s, w, now, cost, v)
	default:
		slidingWindowCounter{}.load(s, w, now, cost, v)
	}
}

func (a Algorithm) finish(s *windowState, w *Window, v *windowView, cost int64, consume bool) (remaining, resetAfter int64, short bool) {
	switch a {
	case TokenBucket, GCRA:
		return tokenBucket{}.finish(s, w, v, cost, consume)
	case FixedWindow:
		return fixedWindow{}.finish(s, w, v, cost, consume)
	case SlidingWindow:
		return slidingWindow{}.finish(s, w, v, cost, consume)
	default:
		return slidingWindowCounter{}.finish(s, w, v, cost, consume)
	}
}

func (a Algorithm) expiry(s *windowState) int64 {
	switch a {
	case TokenBucket, GCRA:
		return tokenBucket{}.expiry(s)
	case FixedWindow:
		return fixedWindow{}.expiry(s)
	case SlidingWindow:
		return slidingWindow{}.expiry(s)
	default:
		return slidingWindowCounter{}.expiry(s)
	}
}

// len is the number of window lengths ks holds state for.
func (ks *KeyState) len() int {
	switch {
	case ks.first.secs == 0:
		return 0
	case ks.more == nil:
		return 1
	}
	return 1 + len(ks.more.windows)
}

// at returns the state of the jth window length ks holds, 0 ≤ j < ks.len().
func (ks *KeyState) at(j int) *windowState {
	if j == 0 {
		return &ks.first
	}
	return &ks.more.windows[j-1]
}

// add adds the state of a window length ks holds none of. It may move the states of the
// others: pointers to them taken before are stale.
func (ks *KeyState) add(s windowState) {
	if ks.first.secs == 0 {
		ks.first = s
		return
	}
	m := ks.extra()
	m.windows = append(m.windows, s)
}

// extra returns ks.more, allocating it if needed.
func (ks *KeyState) extra() *moreState {
	if ks.more == nil {
		ks.more = new(moreState)
	}
	return ks.more
}

// penalty returns the key's penalty state, nil before its first violation.
func (ks *KeyState) penalty() *penaltyState {
	if ks.more == nil {
		return nil
	}
	return ks.more.penalty
}

// slots sets states to the state of each window of p in ks, adding fresh states for the
// window lengths the key has none of yet. The returned mask has the bit of each window
// whose state another algorithm wrote (the configuration changed algorithm): Apply reads
// it as a fresh window's, as the Redis scripts read it, from a stand-in, which replaces the
// other algorithm's state only when the decision counts units there (keep). A check, or a
// take another window or a cooldown denies, leaves it for when that algorithm comes back,
// as Redis leaves its key.
func (ks *KeyState) slots(p *Policy, now int64, states *[MaxWindows]*windowState) (standIns uint8) {
	var idx [MaxWindows]int
	missing := 0
	for i := range p.Windows {
		if idx[i] = ks.find(windowSecs(&p.Windows[i])); idx[i] < 0 {
			missing++
		}
	}
	if missing > 0 {
		if ks.len()+missing > maxWindowStates {
			ks.prune(p, now)
		}
		for i := range p.Windows {
			if secs := windowSecs(&p.Windows[i]); ks.find(secs) < 0 {
				ks.add(windowState{secs: secs, alg: p.Algorithm})
			}
		}
		for i := range p.Windows { // after every add, which may move states
			idx[i] = ks.find(windowSecs(&p.Windows[i]))
		}
	}
	for i := range p.Windows {
		if states[i] = ks.at(idx[i]); states[i].alg != p.Algorithm {
			standIns |= 1 << i
		}
	}
	return standIns
}

// keep makes each stand-in of standIns (see slots) the state of its window length when the
// decision counted units in it: it then differs from a fresh window's.
func (ks *KeyState) keep(fresh *[MaxWindows]windowState, standIns uint8) {
	for i := range fresh {
		if s := &fresh[i]; standIns&(1<<i) != 0 && *s != (windowState{secs: s.secs, alg: s.alg}) {
			*ks.at(ks.find(s.secs)) = *s
		}
	}
}

// peekSlots is slots for [OpPeek], which writes nothing: it sets states to the state of
// each window of p that ks holds under p's algorithm, and to nil where the key holds no
// state of the length or only another algorithm's, which peek reads as a fresh window's.
func (ks *KeyState) peekSlots(p *Policy, states *[MaxWindows]*windowState) {
	for i := range p.Windows {
		states[i] = nil
		if j := ks.find(windowSecs(&p.Windows[i])); j >= 0 && ks.at(j).alg == p.Algorithm {
			states[i] = ks.at(j)
		}
	}
}

// find returns the index (for at) of the window length of secs seconds, or -1.
func (ks *KeyState) find(secs uint32) int {
	if ks.first.secs == secs {
		return 0
	}
	if ks.more != nil {
		for j := range ks.more.windows {
			if ks.more.windows[j].secs == secs {
				return j + 1
			}
		}
	}
	return -1
}

// maxWindowStates bounds the window lengths one key keeps state for. A rule's tiers, and
// the reloads a key lives through, rarely bring more; beyond it the key forgets the states
// of other lengths that are fresh at the time, as a Redis key would expire.
const maxWindowStates = 2 * MaxWindows

// prune drops the states of window lengths p lacks that equal a fresh window's at now:
// the in-process counterpart of their Redis keys expiring.
func (ks *KeyState) prune(p *Policy, now int64) {
	n := 0 // the states kept, moved to the front in order
	for j := range ks.len() {
		if s := ks.at(j); s.alg.expiry(s) > now || p.hasSeconds(s.secs) {
			*ks.at(n) = *s
			n++
		}
	}
	if n == 0 {
		ks.first = windowState{}
	}
	if ks.more != nil {
		rest := max(n-1, 0)
		clear(ks.more.windows[rest:])
		ks.more.windows = ks.more.windows[:rest]
	}
}

// MaxInstant is the latest instant a decision is made at: 2^53 µs after 1970 (the year 2255),
// the largest time Redis's Lua numbers hold exactly.
const MaxInstant = 1 << 53

// ClampInstant returns now (Unix µs) within [0, MaxInstant]: an instant before 1970 or past
// MaxInstant is a broken clock, decided as at 1970 or at MaxInstant, as the Redis store
// decides it (its scripts read a state with a later time as another program's).
func ClampInstant(now int64) int64 { return min(max(now, 0), MaxInstant) }

// ExpiresAt returns the Unix microsecond from which the key's state equals a fresh key's,
// so that a store may forget it: every window full again, no cooldown, no violation that
// still counts. Zero for a key never admitted.
func (ks *KeyState) ExpiresAt() int64 { return ks.expiresAt }

// Apply decides one request of cost units at now (Unix µs) against ks, as [Store.Take]
// specifies for op, updating ks in place and filling res. Each window decides at max(now,
// its last change). For [OpTake] the request is admitted only if every window of p (and the
// penalty, when p has one) allows it, and then consumes in every window; [OpCheck] decides
// the same but consumes nothing; [OpConsume] counts the cost in every window, beyond full up
// to twice the limit, leaving the penalty alone; [OpPeek] changes nothing in ks (a key never decided may be passed as a
// zero KeyState). Apply allocates only when a key's state grows — a new window length, a
// sliding window's log, the penalty's first violation.
func (p *Policy) Apply(ks *KeyState, op Op, now, cost int64, res *Result) {
	now = ClampInstant(now)
	if op == OpPeek {
		p.peek(ks, now, cost, res)
		return
	}
	var (
		states [MaxWindows]*windowState
		fresh  [MaxWindows]windowState
	)
	standIns := ks.slots(p, now, &states)
	for i := range p.Windows {
		if standIns&(1<<i) != 0 { // here, not in slots, so that fresh stays on the stack
			fresh[i] = windowState{secs: states[i].secs, alg: p.Algorithm}
			states[i] = &fresh[i]
		}
		p.Algorithm.drop(states[i], now)
	}
	var views [MaxWindows]windowView
	p.load(&states, &views, now, cost, res)
	if p.Penalty != nil && op != OpConsume {
		p.Penalty.apply(ks, now, res)
	}
	consume := op == OpConsume || op == OpTake && res.Allowed
	short, full := p.finish(&states, &views, cost, consume, res)
	if standIns != 0 {
		ks.keep(&fresh, standIns)
	}
	if op == OpConsume {
		res.Allowed = !short
	}
	if consume {
		ks.expiresAt = max(ks.expiresAt, full)
	}
}

// peek is Apply for [OpPeek].
func (p *Policy) peek(ks *KeyState, now, cost int64, res *Result) {
	var (
		states [MaxWindows]*windowState
		fresh  [MaxWindows]windowState
		views  [MaxWindows]windowView
	)
	ks.peekSlots(p, &states)
	for i := range p.Windows {
		if states[i] == nil { // here, not in peekSlots, so that fresh stays on the stack
			fresh[i] = windowState{secs: windowSecs(&p.Windows[i]), alg: p.Algorithm}
			states[i] = &fresh[i]
		}
	}
	p.load(&states, &views, now, cost, res)
	if p.Penalty != nil {
		p.Penalty.peek(ks, now, res)
	}
	p.finish(&states, &views, cost, false, res)
}

// load loads every window of p, filling views and the windows' verdicts in res; res.Allowed
// reports whether all of them admit cost.
func (p *Policy) load(states *[MaxWindows]*windowState, views *[MaxWindows]windowView, now, cost int64, res *Result) {
	alg := p.Algorithm
	res.Allowed, res.Cooldown, res.Violations, res.Fallback = true, 0, 0, false
	for i := range p.Windows {
		alg.load(states[i], &p.Windows[i], now, cost, &views[i])
		res.Windows[i] = WindowResult{Allowed: views[i].ok}
		if !views[i].ok {
			res.Windows[i].RetryAfter = micros(views[i].retry)
			res.Allowed = false
		}
	}
}

// finish finishes every window of p, consuming cost when consume is true, and fills the
// windows' remaining units and reset times in res. It reports whether a window's cap left
// part of the cost uncounted, and when every window is full again: the latest of their
// decision times plus reset times. After a consume that is each window's expiry (every
// algorithm's window is full again exactly when its state equals a fresh one's), which
// Apply so has without computing it a second time (TestExpiryAfterAConsumeIsTheReset).
func (p *Policy) finish(states *[MaxWindows]*windowState, views *[MaxWindows]windowView, cost int64, consume bool, res *Result) (short bool, full int64) {
	alg := p.Algorithm
	for i := range p.Windows {
		remaining, reset, cut := alg.finish(states[i], &p.Windows[i], &views[i], cost, consume)
		res.Windows[i].Remaining, res.Windows[i].ResetAfter = remaining, micros(reset)
		short = short || cut
		full = max(full, views[i].t+reset)
	}
	return short, full
}

func micros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
