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
	return []testCase{
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
			name:     "a consume never counts over the limit",
			policies: []policySpec{{windows: windows(2, min)}},
			steps: pick(alg,
				[]step{
					{op: check, times: 2, allowed: true, remaining: []int64{2}}, // three in flight
					{op: consume, times: 1, allowed: true, remaining: []int64{0}},
					{op: consume, allowed: false, remaining: []int64{0}, retryAfter: d(30 * sec)},
					// Had the third counted, the bucket would owe a unit: none back at +30 s.
					{at: 30 * sec, allowed: true, remaining: []int64{0}},
					{at: 30 * sec, allowed: false},
				},
				pickCounter(alg,
					[]step{
						{op: check, times: 2, allowed: true, remaining: []int64{2}},
						{op: consume, times: 1, allowed: true, remaining: []int64{0}},
						{op: consume, allowed: false, remaining: []int64{0}, retryAfter: d(min + 30*sec)},
						// 30 s into the next window the 2 weigh 1: one fits. Had the third
						// counted, the 3 would weigh 1.5 and none would.
						{at: min + 30*sec, allowed: true, remaining: []int64{0}},
						{at: min + 30*sec, allowed: false},
					},
					[]step{
						{op: check, times: 2, allowed: true, remaining: []int64{2}},
						{op: consume, times: 1, allowed: true, remaining: []int64{0}},
						{op: consume, allowed: false, remaining: []int64{0}, retryAfter: d(min)},
						{at: min, times: 1, allowed: true, remaining: []int64{0}},
						{at: min, allowed: false},
					})),
		},
		{
			name:     "a consume that does not fit records no violation",
			policies: []policySpec{{windows: windows(1, min), penalty: penalty1}},
			steps: []step{
				{op: check, allowed: true},
				{allowed: true},
				{op: consume, allowed: false, violations: n(0), cooldown: d(0)},
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
}
