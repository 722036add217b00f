package storetest

import (
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// The operations other than a plain take, by their short names.
const (
	check   = rate.OpCheck
	consume = rate.OpConsume
	peek    = rate.OpPeek
)

// penalty1 starts a cooldown of 10 s at the first violation, 20 s at the second.
var penalty1 = &rate.PenaltyPolicy{Threshold: 1, Period: min, BaseCooldown: 10 * sec, Multiplier: 2, MaxCooldown: min}

// penalty2 starts a cooldown at the second violation.
var penalty2 = &rate.PenaltyPolicy{Threshold: 2, Period: min, BaseCooldown: 10 * sec, Multiplier: 2, MaxCooldown: min}

func opCases(alg rate.Algorithm) []testCase {
	cs := []testCase{
		{
			name:     "a peek consumes nothing and records no violation",
			policies: []policySpec{{windows: windows(3, min), penalty: penalty1}},
			steps: []step{
				{op: peek, times: 4, allowed: true, remaining: []int64{3}, violations: n(0), cooldown: d(0)},
				{times: 2, allowed: true, remaining: []int64{0}},
				// sliding_window_counter: the 3 fit once they weigh 2, 40 s into the next window.
				{op: peek, times: 3, allowed: false, remaining: []int64{0}, retryAfter: d(pickCounter(alg, min+20*sec, pick(alg, 20*sec, min))), violations: n(0), cooldown: d(0)},
				{allowed: false, violations: n(1), cooldown: d(10 * sec)}, // the first violation: peeks recorded none
				{at: 4 * sec, op: peek, allowed: false, violations: n(1), cooldown: d(6 * sec)},
				{at: 4 * sec, op: peek, allowed: false, violations: n(1), cooldown: d(6 * sec)}, // nor extended it
			},
		},
		{
			name:     "a peek shows the state before its cost",
			policies: []policySpec{{windows: windows(3, min, 10, time.Hour)}},
			steps: []step{
				{cost: 2, allowed: true, remaining: []int64{1, 8}},
				{op: peek, allowed: true, remaining: []int64{1, 8}},
				// sliding_window_counter: 2 more fit once the 2 weigh 1, 30 s into the next window.
				{op: peek, cost: 2, allowed: false, remaining: []int64{1, 8}, retryAfter: d(pickCounter(alg, min+30*sec, pick(alg, 20*sec, min)))},
				{allowed: true, remaining: []int64{0, 7}},
			},
		},
		{
			name:     "a peek does not move a key's time",
			policies: []policySpec{{windows: windows(2, min)}},
			steps: []step{
				{times: 1, allowed: true, remaining: []int64{0}},
				// sliding_window_counter: half of the previous window's 2 still weighs.
				{at: min + 30*sec, op: peek, allowed: true, remaining: []int64{pickCounter[int64](alg, 1, 2)}},
				// Earlier than the peek: decided at its own time, not the peek's (at the
				// peek's, sliding_window_counter would admit it).
				{at: 10 * sec, allowed: false, retryAfter: d(pickCounter(alg, min+20*sec, pick(alg, 20*sec, 50*sec)))},
			},
		},
		{
			name:     "a check that admits consumes nothing and shows the state before its cost",
			policies: []policySpec{{windows: windows(2, min)}},
			steps: []step{
				{op: check, times: 4, allowed: true, remaining: []int64{2}},
				{allowed: true, remaining: []int64{1}},
				{op: check, allowed: true, remaining: []int64{1}},
				{allowed: true, remaining: []int64{0}},
				{op: check, allowed: false, remaining: []int64{0}, retryAfter: d(pickCounter(alg, min+30*sec, pick(alg, 30*sec, min)))},
			},
		},
		{
			name:     "a check that denies is a violation and may start a cooldown",
			policies: []policySpec{{windows: windows(1, min), penalty: penalty2}},
			steps: []step{
				{op: check, allowed: true, violations: n(0)},
				{allowed: true},
				{op: check, allowed: false, violations: n(1), cooldown: d(0)},
				{op: check, allowed: false, violations: n(2), cooldown: d(10 * sec)},
				{at: 5 * sec, allowed: false, violations: n(2), cooldown: d(5 * sec)},
				{at: 5 * sec, op: check, allowed: false, violations: n(2), cooldown: d(5 * sec)},
				{at: 10 * sec, op: check, allowed: false, violations: n(3), cooldown: d(20 * sec)},
			},
		},
		{
			name:     "a consume counts",
			policies: []policySpec{{windows: windows(3, min)}},
			steps: []step{
				{op: check, allowed: true, remaining: []int64{3}},
				{op: consume, allowed: true, remaining: []int64{2}},
				{op: consume, times: 1, allowed: true, remaining: []int64{0}},
				{allowed: false, remaining: []int64{0}},
				{op: check, allowed: false},
			},
		},
		{
			// Five requests pass their checks together: the consumes that find the window
			// full still count, so the window owes units, up to twice its limit. (A consume
			// used to count nothing then, and every unit that came back let a whole
			// concurrent burst through: SPEC section 4 bounds admitted-and-counted requests
			// by limit + in flight.)
			name:     "a consume beyond full counts, up to twice the limit",
			policies: []policySpec{{windows: windows(2, min)}},
			steps: []step{
				{op: check, times: 4, allowed: true, remaining: []int64{2}},
				{op: consume, times: 1, allowed: true, remaining: []int64{0}},
				{op: consume, times: 1, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{pickCounter(alg, 2*min, pick(alg, 2*min, min))}},
				// Four units counted: the cap. The fifth counts nothing and says so.
				{op: consume, allowed: false, remaining: []int64{0}},
				// The bucket owes 2 units beyond full and drains 1 per 30 s; the counter's 4
				// weigh 1 when 45 s of the next window have passed.
				{op: check, allowed: false, remaining: []int64{0}, retryAfter: d(afterCap(alg))},
				{at: afterCap(alg) - time.Microsecond, allowed: false, retryAfter: d(time.Microsecond)},
				{at: afterCap(alg), allowed: true, remaining: []int64{pick[int64](alg, 0, pickCounter[int64](alg, 0, 1))}},
			},
		},
		{
			// Consumes spread over the window put more than limit units in it; the next
			// check waits exactly until enough have drained or left.
			name:     "after consumes beyond full the wait is exact",
			policies: []policySpec{{windows: windows(2, min)}},
			steps: []step{
				{op: check, times: 2, allowed: true, remaining: []int64{2}},
				{at: 30 * sec, op: consume, allowed: true, remaining: []int64{1}},
				{at: 40 * sec, op: consume, allowed: true, remaining: []int64{0}},
				{at: 50 * sec, op: consume, allowed: true, remaining: []int64{0}},
				// token bucket: 7/3 units used at 50 s, 4/3 beyond the one a request needs,
				// drained at 1 per 30 s; sliding_window: the unit of 40 s must leave;
				// fixed_window: the window ends; sliding_window_counter: the 3 weigh 1.
				{at: 50 * sec, op: check, allowed: false, retryAfter: d(afterDebt(alg))},
				{at: 50*sec + afterDebt(alg) - time.Microsecond, op: check, allowed: false, retryAfter: d(time.Microsecond)},
				{at: 50*sec + afterDebt(alg) - time.Microsecond, op: peek, allowed: false, remaining: []int64{0}, retryAfter: d(time.Microsecond)},
				{at: 50*sec + afterDebt(alg), allowed: true},
			},
		},
		{
			// The cap is counted exactly: 5 units, then a cost of 2 of which 1 fits under
			// the cap of 6. The waits tell 6 from 5 or 7 in every algorithm but the fixed
			// window, whose wait is the window's end whatever its count.
			name:     "a consume that reaches the cap counts what fits",
			policies: []policySpec{{windows: windows(3, min)}},
			steps: []step{
				{op: consume, allowed: true, remaining: []int64{2}},
				{at: sec, op: consume, allowed: true},
				{at: 2 * sec, op: consume, allowed: true},
				{at: 3 * sec, op: consume, allowed: true, remaining: []int64{0}},
				{at: 4 * sec, op: consume, allowed: true, remaining: []int64{0}},
				{at: 5 * sec, op: consume, cost: 2, allowed: false, remaining: []int64{0}},
				{at: 5 * sec, op: consume, allowed: false, remaining: []int64{0}},
				{at: 5 * sec, op: check, allowed: false, retryAfter: d(map[rate.Algorithm]time.Duration{
					rate.TokenBucket: 80 * sec, rate.GCRA: 80 * sec, // 6 units, 4 beyond the 2 a request needs, 20 s each
					rate.FixedWindow:          55 * sec,
					rate.SlidingWindow:        58 * sec, // the unit of 3 s must leave
					rate.SlidingWindowCounter: 95 * sec, // the 6 weigh 2 at 40 s into the next window
				}[alg])},
			},
		},
		{
			// Two windows: a consume beyond the minute's limit counts in the hour's too (it
			// used to count in neither), so the hour holds every request admitted.
			name:     "a consume counts in every window",
			policies: []policySpec{{windows: windows(2, min, 5, time.Hour)}},
			steps: []step{
				{op: check, times: 3, allowed: true, remaining: []int64{2, 5}},
				{op: consume, allowed: true, remaining: []int64{1, 4}},
				{op: consume, allowed: true, remaining: []int64{0, 3}},
				{op: consume, allowed: true, remaining: []int64{0, 2}},
				{op: consume, allowed: true, remaining: []int64{0, 1}},
				{op: peek, allowed: false, remaining: []int64{0, 1}},
				// Once the minute window has drained, the hour has room for one more.
				{at: 2 * min, allowed: true, remaining: []int64{1, 0}},
				{at: 2 * min, allowed: false, remaining: []int64{1, 0}},
			},
		},
		{
			// Twice the largest limit validation accepts, the state of every algorithm at
			// its cap (2 × limit × window ≈ 2^53 µs for a bucket), decided exactly.
			name:     "consumes up to the cap at the largest limits are exact",
			policies: []policySpec{{windows: windows(int(largestLimit(alg)), sec)}},
			steps: []step{
				{op: consume, cost: largestLimit(alg), times: 1, allowed: true, remaining: []int64{0}},
				{op: consume, allowed: false, remaining: []int64{0}},
				{op: check, allowed: false, retryAfter: d(capWait(alg))},
				{at: capWait(alg) - time.Microsecond, allowed: false, retryAfter: d(time.Microsecond)},
				{at: capWait(alg), allowed: true},
			},
		},
		{
			name:     "a consume beyond full records no violation",
			policies: []policySpec{{windows: windows(1, min), penalty: penalty1}},
			steps: []step{
				{op: check, allowed: true},
				{allowed: true},
				{op: consume, allowed: true, remaining: []int64{0}, violations: n(0), cooldown: d(0)},
				{allowed: false, violations: n(1), cooldown: d(10 * sec)},
			},
		},
		{
			name:     "a consume counts during a cooldown that started after its check",
			policies: []policySpec{{windows: windows(2, min), penalty: penalty1}},
			steps: []step{
				{op: check, allowed: true, remaining: []int64{2}},
				{allowed: true, remaining: []int64{1}},
				{cost: 2, allowed: false, violations: n(1), cooldown: d(10 * sec)},
				{op: consume, allowed: true, remaining: []int64{0}, violations: n(0), cooldown: d(0)},
				{at: 5 * sec, op: peek, allowed: false, remaining: []int64{0}, violations: n(1), cooldown: d(5 * sec)},
			},
		},
		{
			name:     "a reset restores full windows and clears the penalty",
			policies: []policySpec{{windows: windows(2, min, 3, time.Hour), penalty: penalty1}},
			steps: []step{
				{times: 1, allowed: true, remaining: []int64{0, 1}},
				{allowed: false, violations: n(1), cooldown: d(10 * sec)},
				{reset: true},
				{op: peek, allowed: true, remaining: []int64{2, 3}, violations: n(0), cooldown: d(0)},
				{allowed: true, remaining: []int64{1, 2}, violations: n(0), cooldown: d(0)},
				{allowed: true, remaining: []int64{0, 1}},
				{allowed: false, violations: n(1), cooldown: d(10 * sec)}, // counted from zero again
				{reset: true},
				{reset: true}, // of a key without state: nothing to do
				{at: sec, allowed: true, remaining: []int64{1, 2}},
			},
		},
		{
			name:     "a reset forgets the windows of every policy",
			policies: []policySpec{{windows: windows(2, min)}, {windows: windows(2, 10*sec)}},
			steps: []step{
				{times: 1, allowed: true},
				{policy: 1, times: 1, allowed: true},
				{allowed: false},
				{policy: 1, allowed: false},
				{reset: true},
				{allowed: true, remaining: []int64{1}},
				{policy: 1, allowed: true, remaining: []int64{1}},
			},
		},
		{
			name:     "a reset of one key leaves the others",
			policies: []policySpec{{windows: windows(2, min), penalty: penalty1}},
			steps: []step{
				{times: 1, allowed: true},
				{allowed: false, violations: n(1)},
				{key: 1, times: 1, allowed: true},
				{key: 1, allowed: false, violations: n(1)},
				{reset: true},
				{allowed: true, remaining: []int64{1}},
				{key: 1, op: peek, allowed: false, remaining: []int64{0}, violations: n(1), cooldown: d(10 * sec)},
				{key: 1, allowed: false, cooldown: d(10 * sec)},
			},
		},
	}
	if alg == rate.SlidingWindow {
		cs = append(cs, droppedAdmissionsCase)
	}
	return cs
}

// droppedAdmissionsCase: every decision but a peek drops the admissions that have left a
// sliding window — a check that admits and a request denied by another window too (or by a
// cooldown, which the Redis store's local cache may answer without Redis) —, so that a
// client denied for long costs no walk over its past (core/rate.Op). What it drops no later decision counts: one whose clock
// stepped back is decided without them, as at the dropping decision's time (SPEC section
// 1.5), where a peek, which drops nothing, leaves them to count.
var droppedAdmissionsCase = testCase{
	name: "a decision other than a peek drops the admissions that left the window",
	policies: []policySpec{
		{windows: windows(2, min)},
		{windows: windows(2, min, 1, time.Hour)},
	},
	steps: []step{
		// A check at 90 s drops the two admissions of 0 s: at 10 s they no longer count.
		{times: 1, allowed: true, remaining: []int64{0}},
		{at: 90 * sec, op: peek, allowed: true, remaining: []int64{2}},
		{at: 10 * sec, op: peek, allowed: false, remaining: []int64{0}, retryAfter: d(50 * sec)},
		{at: 90 * sec, op: check, allowed: true, remaining: []int64{2}},
		{at: 10 * sec, op: peek, allowed: true, remaining: []int64{2}},
		// Key 1: a take denied by the hour drops the minute's admission of 0 s.
		{key: 1, policy: 1, allowed: true, remaining: []int64{1, 0}},
		{key: 1, policy: 1, at: 90 * sec, allowed: false, remaining: []int64{2, 0}},
		{key: 1, policy: 1, at: 10 * sec, op: peek, allowed: false, remaining: []int64{2, 0}},
		{key: 1, at: 10 * sec, times: 1, allowed: true, remaining: []int64{0}},
	},
}

// afterCap is the wait after "a consume beyond full counts, up to twice the limit": 4 units
// of a limit of 2 per minute counted at once.
func afterCap(alg rate.Algorithm) time.Duration {
	return pickCounter(alg, min+45*sec, pick(alg, 90*sec, min))
}

// afterDebt is the wait of the check at 50 s in "after consumes beyond full the wait is
// exact".
func afterDebt(alg rate.Algorithm) time.Duration {
	return map[rate.Algorithm]time.Duration{
		rate.TokenBucket:          40 * sec,
		rate.GCRA:                 40 * sec,
		rate.FixedWindow:          10 * sec,
		rate.SlidingWindow:        50 * sec,
		rate.SlidingWindowCounter: 50 * sec,
	}[alg]
}

// capWait is the wait after "consumes up to the cap at the largest limits are exact": a
// bucket of L a second holding 2L units admits a unit once L + 1 have drained, ⌈(L + 1) ×
// 1 s / L⌉ = 1 s + 1 µs (L > 10^6); the counter's 2L weigh L − 1 from 500,000 µs into the
// next second on.
func capWait(alg rate.Algorithm) time.Duration {
	return pick(alg, sec+time.Microsecond, pickCounter(alg, sec+500_001*time.Microsecond, sec))
}
