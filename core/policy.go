package core

import (
	"fmt"
	"time"
)

// Window is one limit of a rule: at most Limit units per Period.
type Window struct {
	Limit  int64
	Period time.Duration
	// Name is the policy name in headers and bodies: the rule name for the first window,
	// "<rule>-<seconds>" for the others.
	Name string
	// Capacity, for sliding_window, is the number of admission times to keep when it must
	// exceed Limit: the largest limit of the same period among the rule's tiers, so that a
	// client switching tiers never loses admissions. Zero means Limit.
	Capacity int64
}

// maxExactMicros bounds Limit × Period (in µs) for the token bucket so that its scaled
// integer state stays exact in the 53-bit mantissa of the Redis scripts' numbers.
const maxExactMicros = 1 << 53

// Policy is what a [Store] needs to decide a rule: its algorithm, windows and penalty.
// A Policy is immutable once built with [NewPolicy] and safe for concurrent use.
//
// Its methods hold the arithmetic of the algorithms for in-process stores. Times are Unix
// microseconds; state lives in an []int64 of [Policy.StateSize] elements that the caller
// owns and passes back on every call, so deciding allocates nothing.
type Policy struct {
	Algorithm Algorithm
	Windows   []Window
	Penalty   *PenaltyPolicy // nil when penalties are off

	offsets   [MaxWindows + 1]int // start of each window's state in the slab
	longest   time.Duration       // longest window period
	maxCost   int64               // smallest window limit
	stateSize int
}

// NewPolicy validates and builds a policy. Every window needs Limit ≥ 1 and a Period of
// whole seconds, at least one second, distinct from the other windows' periods.
func NewPolicy(alg Algorithm, windows []Window, penalty *PenaltyPolicy) (*Policy, error) {
	if int(alg) >= len(algorithmNames) {
		return nil, fmt.Errorf("ratewarden: unknown algorithm %d", alg)
	}
	if len(windows) == 0 || len(windows) > MaxWindows {
		return nil, fmt.Errorf("ratewarden: a policy needs 1 to %d windows, got %d", MaxWindows, len(windows))
	}
	p := &Policy{Algorithm: alg, Windows: append([]Window(nil), windows...), Penalty: penalty}
	off := 0
	if penalty != nil {
		if err := penalty.validate(); err != nil {
			return nil, err
		}
		off = penalty.stateSize()
	}
	for i, w := range p.Windows {
		if err := validateWindow(alg, w); err != nil {
			return nil, err
		}
		for _, prev := range p.Windows[:i] {
			if prev.Period == w.Period {
				return nil, fmt.Errorf("ratewarden: two windows of %s", w.Period)
			}
		}
		p.offsets[i] = off
		off += windowStateSize(alg, w)
		p.longest = max(p.longest, w.Period)
		if i == 0 || w.Limit < p.maxCost {
			p.maxCost = w.Limit
		}
	}
	p.offsets[len(p.Windows)] = off
	p.stateSize = off
	return p, nil
}

func validateWindow(alg Algorithm, w Window) error {
	if w.Limit < 1 {
		return fmt.Errorf("ratewarden: window limit must be ≥ 1, got %d", w.Limit)
	}
	if w.Period < time.Second || w.Period%time.Second != 0 {
		return fmt.Errorf("ratewarden: window must be whole seconds, at least 1s, got %s", w.Period)
	}
	us := w.Period.Microseconds()
	switch alg {
	case TokenBucket:
		if w.Limit > maxExactMicros/us {
			return fmt.Errorf("ratewarden: token_bucket limit %d per %s is too large (limit × window in µs must stay below 2^53)", w.Limit, w.Period)
		}
	case GCRA:
		if w.Limit > us {
			return fmt.Errorf("ratewarden: gcra limit %d per %s is too large (at most one request per µs)", w.Limit, w.Period)
		}
	case SlidingWindow:
		if ringSize(w) > MaxSlidingLimit {
			return fmt.Errorf("ratewarden: sliding_window keeps one timestamp per request; limit %d exceeds %d", ringSize(w), MaxSlidingLimit)
		}
	}
	return nil
}

// MaxSlidingLimit bounds the limit of a sliding_window window, which keeps one timestamp
// per admitted unit.
const MaxSlidingLimit = 100_000

// StateSize is the number of int64 elements of a key's state under this policy.
func (p *Policy) StateSize() int { return p.stateSize }

// IdleAfter is how long after its last request a key's state is indistinguishable from a
// fresh one, so that a store may forget it: the longest window, or the penalty period
// when that is longer. A running cooldown is covered by [Policy.ExpiresAt].
func (p *Policy) IdleAfter() time.Duration {
	if p.Penalty != nil {
		return max(p.longest, p.Penalty.Period)
	}
	return p.longest
}

// ExpiresAt returns the Unix microsecond after which state, last touched at now, can be
// forgotten.
func (p *Policy) ExpiresAt(state []int64, now int64) int64 {
	exp := now + p.IdleAfter().Microseconds()
	if p.Penalty != nil {
		exp = max(exp, p.Penalty.cooldownUntil(state))
	}
	return exp
}

// Init writes the state of a key that no request has touched.
func (p *Policy) Init(state []int64) {
	clear(state[:p.stateSize])
	for i, w := range p.Windows {
		initWindow(p.Algorithm, w, p.window(state, i))
	}
}

func (p *Policy) window(state []int64, i int) []int64 {
	return state[p.offsets[i]:p.offsets[i+1]]
}

// Apply decides one request of cost units at now (Unix µs) against state, updating state
// in place and filling res, as [Store.Take] specifies.
func (p *Policy) Apply(state []int64, now, cost int64, res *Result) {
	res.Allowed, res.Cooldown, res.Violations, res.Fallback = true, 0, 0, false
	for i, w := range p.Windows {
		st := p.window(state, i)
		refreshWindow(p.Algorithm, w, st, now)
		ok, retry := checkWindow(p.Algorithm, w, st, now, cost)
		res.Windows[i] = WindowResult{Allowed: ok}
		if !ok {
			res.Windows[i].RetryAfter = micros(retry)
			res.Allowed = false
		}
	}
	if p.Penalty != nil {
		if left := p.Penalty.cooldownUntil(state) - now; left > 0 {
			res.Allowed = false
			res.Cooldown = micros(left)
			res.Violations = p.Penalty.violations(state, now)
		} else if !res.Allowed {
			n, cooldown := p.Penalty.record(state, now)
			res.Violations, res.Cooldown = n, micros(cooldown)
		}
	}
	for i, w := range p.Windows {
		st := p.window(state, i)
		if res.Allowed {
			consumeWindow(p.Algorithm, w, st, now, cost)
		}
		remaining, reset := statusWindow(p.Algorithm, w, st, now)
		res.Windows[i].Remaining, res.Windows[i].ResetAfter = remaining, micros(reset)
	}
}

// Migrate carries the state of a key from policy old to p at now (Unix µs), as on a
// reload or a change of the client's tier: in windows with the same period the units
// already used stay used (so remaining = new limit − used, at least 0); other windows and
// a changed algorithm start fresh; the penalty keeps its cooldown and violations.
// dst and src must not overlap.
func (p *Policy) Migrate(dst []int64, old *Policy, src []int64, now int64) {
	p.Init(dst)
	if p.Penalty != nil && old.Penalty != nil {
		p.Penalty.migrate(dst, old.Penalty, src)
	}
	if p.Algorithm != old.Algorithm {
		return
	}
	for i, w := range p.Windows {
		for j, ow := range old.Windows {
			if ow.Period == w.Period {
				migrateWindow(p.Algorithm, w, p.window(dst, i), ow, old.window(src, j), now)
			}
		}
	}
}

func micros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

// MaxCost is the largest cost a request can have under p: the smallest window limit.
// Stores reject a larger cost, which no window could ever admit.
func (p *Policy) MaxCost() int64 { return p.maxCost }
