package storetest

import (
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// pick returns ifSmooth for the algorithms that refill continuously (token bucket, GCRA)
// and ifWindowed for the others (fixed, sliding, sliding counter).
func pick[T any](alg rate.Algorithm, ifSmooth, ifWindowed T) T {
	if alg.Continuous() {
		return ifSmooth
	}
	return ifWindowed
}

// pickCounter returns ifCounter for sliding_window_counter, whose waits and resets reach
// into the next aligned windows, and otherwise for the other algorithms.
func pickCounter[T any](alg rate.Algorithm, ifCounter, otherwise T) T {
	if alg == rate.SlidingWindowCounter {
		return ifCounter
	}
	return otherwise
}

func windows(limitPeriods ...any) []rate.Window {
	var ws []rate.Window
	for i := 0; i < len(limitPeriods); i += 2 {
		ws = append(ws, rate.Window{Limit: int64(limitPeriods[i].(int)), Period: limitPeriods[i+1].(time.Duration), Name: "r"})
	}
	return ws
}

const (
	sec = time.Second
	min = time.Minute
	ms  = time.Millisecond
)

// toMaxInstant is rate.MaxInstant after Base.
var toMaxInstant = time.Duration(rate.MaxInstant-Base.UnixMicro()) * time.Microsecond

func cases(alg rate.Algorithm) []testCase {
	return []testCase{
		{
			name:     "a burst of limit is admitted and the next denied",
			policies: []policySpec{{windows: windows(10, min)}},
			steps: []step{
				// sliding_window_counter: full again once the burst's window no longer
				// weighs, two windows on; the next unit fits when the burst weighs 9/10.
				{times: 9, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{pickCounter(alg, 2*min, min)}},
				{allowed: false, remaining: []int64{0}, resetAfter: []time.Duration{pickCounter(alg, 2*min, min)}, retryAfter: d(pickCounter(alg, min+6*sec, pick(alg, 6*sec, min)))},
			},
		},
		{
			// Past 2^53 µs (the year 2255) a clock is broken: every instant is decided as at
			// rate.MaxInstant, so a later one refills nothing; and the Redis scripts read
			// the states written there as their own, never as another program's.
			name:     "instants past rate.MaxInstant are decided as at it",
			policies: []policySpec{{windows: windows(3, min)}},
			steps: []step{
				{at: toMaxInstant + time.Hour, times: 2, allowed: true, remaining: []int64{0}},
				{at: toMaxInstant + 2*time.Hour, allowed: false, remaining: []int64{0}},
			},
		},
		{
			name:     "a denial consumes nothing",
			policies: []policySpec{{windows: windows(5, min)}},
			steps: pick(alg,
				[]step{
					{times: 4, allowed: true},
					{times: 3, allowed: false, remaining: []int64{0}},
					{at: 12 * sec, allowed: true, remaining: []int64{0}}, // exactly one unit refilled
					{at: 12 * sec, allowed: false, retryAfter: d(12 * sec)},
				},
				pickCounter(alg,
					[]step{
						{times: 4, allowed: true},
						{at: 59 * sec, times: 3, allowed: false, remaining: []int64{0}, retryAfter: d(13 * sec)},
						// 12 s into the next window the 5 weigh 4: exactly one unit fits.
						{at: 72 * sec, allowed: true, remaining: []int64{0}},
						{at: 72 * sec, allowed: false, retryAfter: d(12 * sec)},
					},
					[]step{
						{times: 4, allowed: true},
						{at: 59 * sec, times: 3, allowed: false, remaining: []int64{0}, retryAfter: d(sec)},
						{at: min, times: 4, allowed: true, remaining: []int64{0}},
						{at: min, allowed: false},
					})),
		},
		{
			name:     "the window refills or rolls",
			policies: []policySpec{{windows: windows(10, 10*sec)}},
			steps: map[rate.Algorithm][]step{
				rate.TokenBucket: {
					{times: 9, allowed: true},
					{at: 5 * sec, allowed: true, remaining: []int64{4}, resetAfter: []time.Duration{6 * sec}},
					{at: 5*sec + 500*ms, allowed: true, remaining: []int64{3}, resetAfter: []time.Duration{6*sec + 500*ms}},
				},
				rate.GCRA: {
					{times: 9, allowed: true},
					{at: 5 * sec, allowed: true, remaining: []int64{4}, resetAfter: []time.Duration{6 * sec}},
					{at: 5*sec + 500*ms, allowed: true, remaining: []int64{3}, resetAfter: []time.Duration{6*sec + 500*ms}},
				},
				rate.FixedWindow: { // a full window late in one window, and another right after
					{at: 9 * sec, times: 9, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{sec}},
					{at: 9*sec + 999*ms, allowed: false, retryAfter: d(time.Millisecond)},
					{at: 10 * sec, times: 9, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{10 * sec}},
				},
				rate.SlidingWindow: {
					{times: 4, allowed: true},
					{at: 5 * sec, times: 4, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{10 * sec}},
					{at: 9 * sec, allowed: false, retryAfter: d(sec), resetAfter: []time.Duration{6 * sec}},
					{at: 10 * sec, times: 4, allowed: true, remaining: []int64{0}},
					{at: 10 * sec, allowed: false, retryAfter: d(5 * sec)},
				},
				rate.SlidingWindowCounter: { // the previous window weighs by its overlap
					{times: 9, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{20 * sec}},
					{at: 9*sec + 999*ms, allowed: false, retryAfter: d(sec + ms)}, // never more than limit in an aligned window
					{at: 10 * sec, allowed: false, remaining: []int64{0}, resetAfter: []time.Duration{10 * sec}, retryAfter: d(sec)},
					{at: 11 * sec, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{19 * sec}}, // 10 × 9/10 + 1
					{at: 15 * sec, times: 3, allowed: true, remaining: []int64{0}},                              // 10 × 5/10 + 5
					{at: 15 * sec, allowed: false, remaining: []int64{0}, retryAfter: d(sec)},
					{at: 20 * sec, times: 4, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{20 * sec}}, // 5 × 10/10 + 5
					{at: 20 * sec, allowed: false},
					{at: 40 * sec, times: 9, allowed: true, remaining: []int64{0}}, // two windows on: fresh
				},
			}[alg],
		},
		{
			name:     "every window must allow and a denial consumes in none",
			policies: []policySpec{{windows: windows(3, sec, 5, min)}},
			steps: pickCounter(alg,
				[]step{
					{times: 2, allowed: true, remaining: []int64{0, 2}},
					{allowed: false, remaining: []int64{0, 2}},
					// The second's first window still weighs 3 at +1 s: the minute window
					// would admit, and consumes nothing either.
					{at: sec, allowed: false, remaining: []int64{0, 2}, retryAfter: d(333_334 * time.Microsecond)},
					{at: 1500 * ms, allowed: true, remaining: []int64{0, 1}},
					{at: 2 * sec, allowed: true, remaining: []int64{1, 0}},
					{at: 2 * sec, allowed: false, remaining: []int64{1, 0}, retryAfter: d(70 * sec)},
					{at: 4 * sec, allowed: false, remaining: []int64{3, 0}, retryAfter: d(68 * sec)},
				},
				[]step{
					{times: 2, allowed: true, remaining: []int64{0, 2}},
					{allowed: false, remaining: []int64{0, 2}},
					{at: sec, allowed: true, remaining: []int64{2, 1}},
					{at: sec, allowed: true, remaining: []int64{1, 0}},
					{at: sec, allowed: false, remaining: []int64{1, 0}},
					{at: 2 * sec, allowed: false, remaining: []int64{3, 0}, retryAfter: d(pick(alg, 10*sec, 58*sec))},
				}),
		},
		{
			name:     "cost consumes several units and may be denied with units left",
			policies: []policySpec{{windows: windows(10, min)}},
			steps: []step{
				{cost: 3, times: 2, allowed: true, remaining: []int64{1}},
				// sliding_window_counter: when the 9 weigh 7, 13.333334 s into the next window.
				{cost: 3, allowed: false, remaining: []int64{1}, retryAfter: d(pickCounter(alg, 73_333_334*time.Microsecond, pick(alg, 12*sec, min)))},
				{cost: 1, allowed: true, remaining: []int64{0}},
			},
		},
		{
			name:     "keys are independent",
			policies: []policySpec{{windows: windows(2, min)}},
			steps: []step{
				{times: 1, allowed: true},
				{allowed: false},
				{key: 1, allowed: true, remaining: []int64{1}},
			},
		},
		{
			name:     "a new policy for a key keeps the units it used",
			policies: []policySpec{{windows: windows(10, min)}, {windows: windows(20, min)}},
			steps: []step{
				{times: 3, allowed: true, remaining: []int64{6}},
				{policy: 1, allowed: true, remaining: []int64{15}},
				{allowed: true, remaining: []int64{4}},
			},
		},
		{
			name:     "switching policies back and forth never grants units",
			policies: []policySpec{{windows: windows(20, min)}, {windows: windows(10, min)}},
			steps: []step{
				{times: 19, allowed: true, remaining: []int64{0}},
				{policy: 1, allowed: false, remaining: []int64{0}},
				{policy: 0, allowed: false, remaining: []int64{0}},
				{policy: 1, allowed: false},
				{policy: 0, allowed: false, remaining: []int64{0}},
			},
		},
		{
			// A lower limit keeps every unit used above it: flipping 3 → 2 → 3 within the
			// window admits nothing more (the memory store used to drop the admissions that
			// did not fit the lower limit, and admitted one more per flip).
			name:     "a lower limit and back admits nothing more",
			policies: []policySpec{{windows: windows(3, time.Hour)}, {windows: windows(2, time.Hour)}},
			steps: []step{
				{times: 2, allowed: true, remaining: []int64{0}},
				{at: sec, policy: 1, allowed: false, remaining: []int64{0}},
				{at: 2 * sec, allowed: false, remaining: []int64{0}},
				{at: 3 * sec, policy: 1, allowed: false},
				{at: 4 * sec, allowed: false, remaining: []int64{0}},
			},
		},
		{
			// Two policies whose windows have different lengths (a tier of 5 per hour, the
			// default of 5 per minute): each length keeps its own state, so alternating them
			// at one instant admits 5 under each, not a fresh 5 at every flip.
			name:     "windows of another length keep their state while another policy applies",
			policies: []policySpec{{windows: windows(5, min)}, {windows: windows(5, time.Hour)}},
			steps: []step{
				{allowed: true, remaining: []int64{4}}, {policy: 1, allowed: true, remaining: []int64{4}},
				{allowed: true, remaining: []int64{3}}, {policy: 1, allowed: true, remaining: []int64{3}},
				{times: 2, allowed: true, remaining: []int64{0}}, {policy: 1, times: 2, allowed: true, remaining: []int64{0}},
				{times: 20, allowed: false, remaining: []int64{0}},
				{policy: 1, times: 20, allowed: false, remaining: []int64{0}},
				{at: 10 * sec, allowed: false}, {at: 10 * sec, policy: 1, allowed: false},
				// A minute on (two for the counter, whose previous window weighs), the minute
				// window has refilled or rolled; the hour's has not.
				{at: pickCounter(alg, 2*min, min), times: 4, allowed: true}, {at: pickCounter(alg, 2*min, min), policy: 1, allowed: false},
			},
		},
		{
			// A window length's state written under another algorithm (a reload changed the
			// rule's algorithm) is read as a fresh window's and replaced only by a decision
			// that counts units there: a check, or a take another window denies, counts
			// nothing, and the state still denies when the first algorithm comes back. The
			// first policy fills its minute window; the second, under another algorithm,
			// has the same minute window and an hour window its first take fills.
			name: "another algorithm's decision that counts nothing keeps a window's state",
			policies: []policySpec{
				{windows: windows(2, min)},
				{windows: windows(2, min), otherAlgorithm: true},
				{windows: windows(2, min, 1, time.Hour), otherAlgorithm: true},
			},
			steps: []step{
				{policy: 2, allowed: true}, // the hour's unit, under the other algorithm
				{times: 1, allowed: true, remaining: []int64{0}},
				{allowed: false, remaining: []int64{0}},
				{policy: 1, op: rate.OpCheck, allowed: true},
				{allowed: false, remaining: []int64{0}},
				{policy: 2, op: rate.OpCheck, allowed: false},
				{allowed: false, remaining: []int64{0}},
				{policy: 2, allowed: false}, // denied by the hour: counts nothing in the minute
				{allowed: false, remaining: []int64{0}},
				{policy: 1, allowed: true}, // counts a unit: the other algorithm's state now
				{policy: 1, allowed: true},
				{policy: 1, allowed: false},
			},
		},
		{
			// The clock steps back two hours after a request: the next ones are decided as at
			// the window's last change, so they neither refill nor wait longer.
			name:     "a clock that steps back decides as at the last change",
			policies: []policySpec{{windows: windows(3, min)}},
			steps: []step{
				{at: 2 * time.Hour, allowed: true, remaining: []int64{2}, resetAfter: []time.Duration{pickCounter(alg, 2*min, pick(alg, 20*sec, min))}},
				{at: 2*time.Hour - 30*sec, allowed: true, remaining: []int64{1}, resetAfter: []time.Duration{pickCounter(alg, 2*min, pick(alg, 40*sec, min))}},
				{allowed: true, remaining: []int64{0}},
				{at: -2 * time.Hour, allowed: false, remaining: []int64{0}, retryAfter: d(pickCounter(alg, min+20*sec, pick(alg, 20*sec, min)))},
				{at: 2*time.Hour + 20*sec, allowed: alg.Continuous()},
				{at: 2*time.Hour + pickCounter(alg, min+20*sec-time.Microsecond, min-time.Microsecond), allowed: alg.Continuous()},
				{at: 2*time.Hour + pickCounter(alg, min+20*sec, min), allowed: true},
			},
		},
		{
			// The emission interval of 70,000 per second is 14.28… µs: rounding it down to 14
			// admitted 71 units a millisecond after a burst instead of 70.
			name:     "a limit whose emission interval is not whole microseconds is exact",
			policies: []policySpec{{windows: windows(70_000, sec)}},
			steps: pick(alg,
				[]step{
					{cost: 70_000, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{sec}},
					{at: ms, cost: 70, allowed: true, remaining: []int64{0}},
					{at: ms, allowed: false, retryAfter: d(15 * time.Microsecond)}, // 1 / 0.07 per µs, rounded up
					{at: ms + 14*time.Microsecond, allowed: false, retryAfter: d(time.Microsecond)},
					{at: ms + 15*time.Microsecond, allowed: true},
				},
				pickCounter(alg,
					[]step{ // the weight of 70,000 over a second: one unit per 1/70,000 s
						{cost: 70_000, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{2 * sec}},
						{at: ms, allowed: false, retryAfter: d(sec - ms + 15*time.Microsecond)},
						{at: sec + 14*time.Microsecond, allowed: false, retryAfter: d(time.Microsecond)},
						{at: sec + 15*time.Microsecond, allowed: true, remaining: []int64{0}},
						{at: sec + 15*time.Microsecond, allowed: false, retryAfter: d(14 * time.Microsecond)},
					},
					[]step{
						{cost: 70_000, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{sec}},
						{at: ms, allowed: false, retryAfter: d(sec - ms)},
					})),
		},
		{
			name:     "the largest limits validation accepts are exact",
			policies: []policySpec{{windows: windows(int(largestLimit(alg)), sec)}},
			steps: pickCounter(alg,
				[]step{
					{allowed: true, remaining: []int64{largestLimit(alg) - 1}, resetAfter: []time.Duration{2 * sec}},
					{cost: largestLimit(alg) - 1, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{2 * sec}},
					{allowed: false, remaining: []int64{0}},
					// prev × (period − e) + (n + cost) × period just above and at limit × period ≈ 2^52.
					{at: sec, allowed: false, retryAfter: d(time.Microsecond)},
					{at: sec + time.Microsecond, allowed: true, remaining: []int64{largestLimit(alg)/1_000_000 - 1}},
				},
				[]step{
					{allowed: true, remaining: []int64{largestLimit(alg) - 1}, resetAfter: []time.Duration{pick(alg, time.Microsecond, sec)}},
					{cost: largestLimit(alg) - 1, allowed: true, remaining: []int64{0}, resetAfter: []time.Duration{sec}},
					{allowed: false, remaining: []int64{0}},
				}),
		},
		{
			// A limit lowered from 100 to 10 per minute after 100 units: the bucket refills at
			// the limit of its last change until its next admission, and the wait it reports
			// is counted at that rate, so a retry at that instant is admitted.
			name:     "after a change of limit the wait is counted at the refill rate in force",
			policies: []policySpec{{windows: windows(100, min)}, {windows: windows(10, min)}},
			steps: pick(alg,
				[]step{
					{cost: 100, allowed: true, remaining: []int64{0}},
					{at: sec, policy: 1, allowed: false, retryAfter: d(53*sec + 600*ms), resetAfter: []time.Duration{59 * sec}},
					{at: 54*sec + 600*ms - time.Microsecond, policy: 1, allowed: false},
					{at: 54*sec + 600*ms, policy: 1, allowed: true, remaining: []int64{0}},
				},
				pickCounter(alg,
					[]step{ // the 100 must weigh at most 9 of the new 10: 54.6 s into the next window
						{cost: 100, allowed: true, remaining: []int64{0}},
						{at: sec, policy: 1, allowed: false, retryAfter: d(113*sec + 600*ms), resetAfter: []time.Duration{119 * sec}},
						{at: 114*sec + 600*ms - time.Microsecond, policy: 1, allowed: false},
						{at: 114*sec + 600*ms, policy: 1, allowed: true, remaining: []int64{0}},
					},
					[]step{
						{cost: 100, allowed: true, remaining: []int64{0}},
						{at: sec, policy: 1, allowed: false, retryAfter: d(59 * sec)},
						{at: min, policy: 1, allowed: true, remaining: []int64{9}},
					})),
		},
		penaltyCase(alg),
		manyLengthsCase(),
		{
			// A cooldown is measured from the newest violation's time: a clock stepping back
			// an hour does not make it an hour longer.
			name:     "a clock that steps back does not lengthen a cooldown",
			policies: []policySpec{{windows: windows(1, min), penalty: &rate.PenaltyPolicy{Threshold: 1, Period: time.Hour, BaseCooldown: 10 * sec, Multiplier: 1, MaxCooldown: 10 * sec}}},
			steps: []step{
				{at: time.Hour, allowed: true},
				{at: time.Hour, allowed: false, violations: n(1), cooldown: d(10 * sec)},
				{at: 0, allowed: false, violations: n(1), cooldown: d(10 * sec), retryAfter: d(pickCounter(alg, 2*min, min))},
				{at: time.Hour + 10*sec, allowed: false, violations: n(2), cooldown: d(10 * sec)},
			},
		},
		{
			// A cooldown longer than the penalty's period outlives the violation that started
			// it: a denial during the cooldown must not forget that violation's time, or a
			// step back before it makes the cooldown longer than it began (1 h 10 s here,
			// where it began at 10 s). From an attack review. The violations at +2 s (none
			// counts any more) are not asserted: the Redis store's local cache answers a
			// denial during a cooldown with the count of the denial it remembers
			// (docs/redis.md, "Local cache").
			name:     "a clock that steps back does not lengthen a cooldown that outlives its violation",
			policies: []policySpec{{windows: windows(1, min), penalty: &rate.PenaltyPolicy{Threshold: 1, Period: sec, BaseCooldown: 10 * sec, Multiplier: 1, MaxCooldown: 10 * sec}}},
			steps: []step{
				{at: time.Hour, allowed: true},
				{at: time.Hour, allowed: false, violations: n(1), cooldown: d(10 * sec)},
				{at: time.Hour + 2*sec, allowed: false, cooldown: d(8 * sec)},
				{at: 0, allowed: false, violations: n(1), cooldown: d(10 * sec)},
				{at: time.Hour + 10*sec, allowed: false, violations: n(1), cooldown: d(10 * sec)},
			},
		},
	}
}

// manyLengthsCase decides one key under more window lengths than an in-process store keeps
// states for before it forgets those that are fresh again (twice rate.MaxWindows): a
// window it forgot while live would admit again. Ten policies of 2 per 1 to 20 minutes
// (lengths that divide an hour, so fixed windows start at Base) are exhausted at Base and
// deny again; an eleventh length, when the three shortest windows are fresh again for every
// algorithm, makes room only from those: the 15 and 20 minute windows still deny.
func manyLengthsCase() testCase {
	periods := []time.Duration{min, 2 * min, 3 * min, 4 * min, 5 * min, 6 * min, 10 * min, 12 * min, 15 * min, 20 * min, 30 * min}
	c := testCase{name: "a key decided under many window lengths forgets none that is live"}
	for _, p := range periods {
		c.policies = append(c.policies, policySpec{windows: windows(2, p)})
	}
	for i := range periods[:10] {
		c.steps = append(c.steps, step{policy: i, times: 1, allowed: true}, step{policy: i, allowed: false})
	}
	for i := range periods[:10] {
		c.steps = append(c.steps, step{policy: i, allowed: false})
	}
	later := 6*min + sec // the 1, 2 and 3 minute windows are fresh (the counter's two windows on)
	c.steps = append(c.steps, step{at: later, policy: 10, allowed: true})
	for i := 8; i < 10; i++ { // not a unit back yet, even in a bucket of 2 per 15 minutes
		c.steps = append(c.steps, step{at: later, policy: i, allowed: false})
	}
	c.steps = append(c.steps, step{at: later, policy: 0, times: 1, allowed: true}, step{at: later, policy: 0, allowed: false})
	return c
}

// largestLimit is the largest limit per second that validation accepts for alg.
func largestLimit(alg rate.Algorithm) int64 {
	switch alg {
	case rate.TokenBucket, rate.GCRA, rate.SlidingWindowCounter:
		return (1 << 52) / 1_000_000
	case rate.FixedWindow:
		return 1 << 52
	default:
		return rate.MaxSlidingLimit
	}
}

// penaltyCase escalates, caps and decays a cooldown (threshold 2, period 1 min, base 10 s,
// multiplier 2, max 15 s) on a window of 1 request per second.
func penaltyCase(alg rate.Algorithm) testCase {
	windowWait := pickCounter(alg, 2*sec, sec) // the counter's unit weighs the whole next second
	p := &rate.PenaltyPolicy{Threshold: 2, Period: min, BaseCooldown: 10 * sec, Multiplier: 2, MaxCooldown: 15 * sec}
	return testCase{
		name:     "penalty cooldowns escalate, are capped and decay",
		policies: []policySpec{{windows: windows(1, sec), penalty: p}},
		steps: []step{
			{allowed: true},
			{allowed: false, violations: n(1), cooldown: d(0), retryAfter: d(windowWait)},
			{at: 500 * ms, allowed: false, violations: n(2), cooldown: d(10 * sec), retryAfter: d(10 * sec)},
			// The window would allow, but the cooldown holds; it is not extended.
			{at: 2 * sec, allowed: false, violations: n(2), cooldown: d(8*sec + 500*ms), retryAfter: d(8*sec + 500*ms)},
			{at: 10*sec + 500*ms, allowed: true},
			{at: 10*sec + 500*ms, allowed: false, violations: n(3), cooldown: d(15 * sec)}, // 20 s capped
			{at: 25*sec + 499*ms, allowed: false, cooldown: d(time.Millisecond)},
			{at: 25*sec + 500*ms, allowed: true},
			{at: 25*sec + 500*ms, allowed: false, violations: n(4), cooldown: d(15 * sec)},
			// A minute later the old violations no longer count.
			{at: 100 * sec, allowed: true},
			{at: 100 * sec, allowed: false, violations: n(1), cooldown: d(0), retryAfter: d(windowWait)},
		},
	}
}
