package rate

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
}

// Seconds is the window's period in whole seconds, as headers, bodies and logs show it
// (validation allows only whole seconds).
func (w Window) Seconds() int64 { return int64(w.Period / time.Second) }

// Bounds of what every backend computes exactly. Times are Unix µs and every product the
// algorithms form stays within 2^53, the exact integers of the doubles in the Redis
// scripts; validation rejects anything beyond, naming the key.
const (
	// MaxWindow is the longest window, penalty period or cooldown: ten years.
	MaxWindow = 10 * 365 * 24 * time.Hour
	// maxBucketUnits bounds limit × window (µs) for token_bucket and gcra, whose state
	// counts used units × window, and for sliding_window_counter, which weighs counts by
	// µs of a window.
	maxBucketUnits = 1 << 52
	// maxCount bounds a fixed_window limit, so that a count plus a cost stays within 2^53.
	maxCount = 1 << 52
	// MaxSlidingLimit bounds a sliding_window limit: the log of a key holds one time per
	// admitted unit, up to the limit (8 bytes each).
	MaxSlidingLimit = 100_000
)

// Policy is what a [Store] needs to decide a rule: its algorithm, windows and penalty.
// A Policy is immutable once built with [NewPolicy] and safe for concurrent use; its
// [Policy.Apply] holds the arithmetic of the algorithms for in-process stores.
type Policy struct {
	Algorithm Algorithm
	Windows   []Window
	Penalty   *PenaltyPolicy // nil when penalties are off

	maxCost int64 // smallest window limit
}

// NewPolicy validates and builds a policy. Every window needs a Period of whole seconds
// from one second to [MaxWindow], distinct from the other windows' periods, and a Limit
// from 1 to what the algorithm computes exactly (limit × window ≤ 2^52 µs for token_bucket,
// gcra and sliding_window_counter, 2^52 for fixed_window, [MaxSlidingLimit] for
// sliding_window). It returns an error naming the first setting that breaks a rule (an
// unknown algorithm, no window or more than [MaxWindows], a bad window or penalty), and
// a nil Policy.
func NewPolicy(alg Algorithm, windows []Window, penalty *PenaltyPolicy) (*Policy, error) {
	if int(alg) >= len(algorithmNames) {
		return nil, fmt.Errorf("ratewarden: unknown algorithm %d", alg)
	}
	if len(windows) == 0 || len(windows) > MaxWindows {
		return nil, fmt.Errorf("ratewarden: a policy needs 1 to %d windows, got %d", MaxWindows, len(windows))
	}
	p := &Policy{Algorithm: alg, Windows: append([]Window(nil), windows...), Penalty: penalty}
	if penalty != nil {
		if err := penalty.Validate(); err != nil {
			return nil, fmt.Errorf("ratewarden: penalty: %w", err)
		}
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
		if i == 0 || w.Limit < p.maxCost {
			p.maxCost = w.Limit
		}
	}
	return p, nil
}

func validateWindow(alg Algorithm, w Window) error {
	if w.Limit < 1 {
		return fmt.Errorf("ratewarden: window limit must be ≥ 1, got %d", w.Limit)
	}
	if w.Period < time.Second || w.Period%time.Second != 0 || w.Period > MaxWindow {
		return fmt.Errorf("ratewarden: window must be whole seconds from 1s to %s, got %s", MaxWindow, w.Period)
	}
	us := w.Period.Microseconds()
	switch alg {
	case TokenBucket, GCRA, SlidingWindowCounter:
		if w.Limit > maxBucketUnits/us {
			return fmt.Errorf("ratewarden: %s limit %d per %s is too large (limit × window in µs must be at most 2^52, so at most %d per %s)", alg, w.Limit, w.Period, maxBucketUnits/us, w.Period)
		}
	case FixedWindow:
		if w.Limit > maxCount {
			return fmt.Errorf("ratewarden: fixed_window limit %d is too large (at most 2^52)", w.Limit)
		}
	case SlidingWindow:
		if w.Limit > MaxSlidingLimit {
			return fmt.Errorf("ratewarden: sliding_window keeps one timestamp per admitted request; limit %d exceeds %d", w.Limit, MaxSlidingLimit)
		}
	}
	return nil
}

// hasSeconds reports whether p has a window of secs seconds.
func (p *Policy) hasSeconds(secs uint32) bool {
	for i := range p.Windows {
		if windowSecs(&p.Windows[i]) == secs {
			return true
		}
	}
	return false
}

// CheckCost returns an error wrapping [ErrCost] when no window of p could ever admit a
// request of cost: below 1, or above [Policy.MaxCost]. Stores call it before deciding.
func (p *Policy) CheckCost(cost int64) error {
	if cost < 1 || cost > p.maxCost {
		return fmt.Errorf("%w: %d", ErrCost, cost)
	}
	return nil
}

// MaxCost is the largest cost a request can have under p: the smallest window limit.
// Stores reject a larger cost, which no window could ever admit.
func (p *Policy) MaxCost() int64 { return p.maxCost }
