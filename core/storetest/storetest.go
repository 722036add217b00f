// Package storetest is the conformance suite every ratewarden [rate.Store] passes: the
// same table of cases — bursts, refill, windows rolling, multi-window all-or-nothing,
// cost, retry-after and reset values, penalties, counters kept across policy changes,
// and concurrency never over-admitting — run against any backend.
//
// Time is injected: every request carries its instant in [rate.Request.Now] and the store
// under test must decide with it (the Redis store has a test mode for that). No case
// sleeps.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// NewStore returns an empty store for one test, deciding with [rate.Request.Now]. It
// registers its own cleanup with t.
type NewStore func(t *testing.T) rate.Store

// Base is the instant the cases start at: a multiple of one hour, so that fixed windows of
// 1 s, 1 min and 1 h all begin there.
var Base = time.Unix(1_764_158_400, 0)

var keySeq atomic.Int64

// Run runs the whole suite against the stores newStore builds.
func Run(t *testing.T, newStore NewStore) {
	for _, alg := range rate.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			for _, c := range append(cases(alg), opCases(alg)...) {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, newStore(t), alg)
				})
			}
			t.Run("concurrent requests never over-admit", func(t *testing.T) {
				t.Parallel()
				concurrent(t, newStore(t), alg)
			})
			t.Run("concurrent consumes count every request admitted", func(t *testing.T) {
				t.Parallel()
				concurrentConsumes(t, newStore(t), alg)
			})
		})
	}
	t.Run("reset refuses a window that is not whole seconds", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		err := s.Reset(context.Background(), uniqueKey(t), []time.Duration{time.Minute, 1500 * time.Millisecond})
		require.ErrorContains(t, err, "1.5s")
	})
}

// step is one request of a case and what the store must answer, or a reset.
type step struct {
	at     time.Duration // after Base
	cost   int64         // 0 = 1
	key    int           // which of the case's keys
	policy int           // which of the case's policies
	times  int           // repeat the step; 0 = once
	op     rate.Op       // the request's op; OpTake by default
	reset  bool          // instead of a request, reset the key for every window length of the case's policies

	allowed    bool
	remaining  []int64        // per window, when not nil
	retryAfter *time.Duration // the decision's wait (max over windows, or the cooldown), when not nil
	resetAfter []time.Duration
	cooldown   *time.Duration
	violations *int
}

// testCase is a sequence of steps against fresh keys.
type testCase struct {
	name     string
	policies []policySpec
	steps    []step
}

type policySpec struct {
	windows []rate.Window
	penalty *rate.PenaltyPolicy
	// otherAlgorithm builds the policy under another algorithm than the case's (see
	// otherAlgorithm), as after a reload that changed a rule's algorithm.
	otherAlgorithm bool
}

// otherAlgorithm is an algorithm whose state differs from alg's: fixed_window, or
// token_bucket for fixed_window.
func otherAlgorithm(alg rate.Algorithm) rate.Algorithm {
	if alg == rate.FixedWindow {
		return rate.TokenBucket
	}
	return rate.FixedWindow
}

func (c testCase) run(t *testing.T, s rate.Store, alg rate.Algorithm) {
	require.NotEmpty(t, c.steps, "the case has no steps for %s", alg) // a table that lacks the algorithm
	policies := make([]*rate.Policy, len(c.policies))
	for i, ps := range c.policies {
		a := alg
		if ps.otherAlgorithm {
			a = otherAlgorithm(alg)
		}
		p, err := rate.NewPolicy(a, ps.windows, ps.penalty)
		require.NoError(t, err)
		policies[i] = p
	}
	keys := []string{uniqueKey(t), uniqueKey(t)}
	var periods []time.Duration
	for _, p := range policies {
		for _, w := range p.Windows {
			periods = append(periods, w.Period)
		}
	}
	for i, st := range c.steps {
		if st.reset {
			require.NoError(t, s.Reset(context.Background(), keys[st.key], periods), "step %d: reset", i)
			continue
		}
		for rep := 0; rep <= st.times; rep++ {
			cost := max(st.cost, 1)
			req := &rate.Request{Key: keys[st.key], Policy: policies[st.policy], Cost: cost, Now: Base.Add(st.at), Op: st.op}
			var res rate.Result
			require.NoError(t, s.Take(context.Background(), req, &res))
			where := fmt.Sprintf("step %d (%s at +%s, repetition %d)", i, st.op, st.at, rep)
			require.Equal(t, st.allowed, res.Allowed, "%s: allowed", where)
			if rep < st.times {
				continue // expectations hold for the last repetition
			}
			p := policies[st.policy]
			for w := range st.remaining {
				assert.Equal(t, st.remaining[w], res.Windows[w].Remaining, "%s: remaining of window %s", where, p.Windows[w].Period)
			}
			for w := range st.resetAfter {
				assert.Equal(t, st.resetAfter[w], res.Windows[w].ResetAfter, "%s: reset of window %s", where, p.Windows[w].Period)
			}
			if st.retryAfter != nil {
				assert.Equal(t, *st.retryAfter, retryAfter(p, &res), "%s: retry after", where)
			}
			if st.cooldown != nil {
				assert.Equal(t, *st.cooldown, res.Cooldown, "%s: cooldown", where)
			}
			if st.violations != nil {
				assert.Equal(t, *st.violations, res.Violations, "%s: violations", where)
			}
		}
	}
}

// retryAfter is the wait a denied request is told: the longest over its windows, or the
// penalty cooldown.
func retryAfter(p *rate.Policy, res *rate.Result) time.Duration {
	wait := res.Cooldown
	for i := range p.Windows {
		wait = max(wait, res.Windows[i].RetryAfter)
	}
	return wait
}

// concurrent sends 400 requests from 8 goroutines at one instant against a limit of 100
// and requires exactly 100 admissions.
func concurrent(t *testing.T, s rate.Store, alg rate.Algorithm) {
	p, key := concurrentPolicy(t, alg), uniqueKey(t)
	admitted := inParallel(t, func() (bool, error) {
		var res rate.Result
		err := s.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: Base}, &res)
		return res.Allowed, err
	})
	require.Equal(t, int64(concurrentLimit), admitted)
}

// concurrentConsumes does for 400 requests at one instant from 8 goroutines what
// count_statuses does — a check, then a consume when admitted — against a limit of 100. Every
// consume counts, beyond full too, so the window ends full however the requests interleave,
// and the requests admitted exceed the limit by at most the 7 others in flight when the
// last of them was checked (SPEC section 4).
func concurrentConsumes(t *testing.T, s rate.Store, alg rate.Algorithm) {
	p, key := concurrentPolicy(t, alg), uniqueKey(t)
	var uncounted atomic.Int64
	admitted := inParallel(t, func() (bool, error) {
		var res rate.Result
		req := rate.Request{Key: key, Policy: p, Cost: 1, Now: Base, Op: rate.OpCheck}
		if err := s.Take(context.Background(), &req, &res); err != nil || !res.Allowed {
			return false, err
		}
		req.Op = rate.OpConsume
		err := s.Take(context.Background(), &req, &res)
		if !res.Allowed {
			uncounted.Add(1)
		}
		return true, err
	})
	assert.Zero(t, uncounted.Load(), "consumes that did not count")
	assert.GreaterOrEqual(t, admitted, int64(concurrentLimit))
	assert.LessOrEqual(t, admitted, int64(concurrentLimit+parallelWorkers-1))
	var res rate.Result
	require.NoError(t, s.Take(context.Background(), &rate.Request{Key: key, Policy: p, Cost: 1, Now: Base, Op: rate.OpPeek}, &res))
	require.False(t, res.Allowed)
	require.Equal(t, int64(0), res.Windows[0].Remaining)
}

const concurrentLimit = 100

func concurrentPolicy(t *testing.T, alg rate.Algorithm) *rate.Policy {
	p, err := rate.NewPolicy(alg, []rate.Window{{Limit: concurrentLimit, Period: time.Minute, Name: "c"}}, nil)
	require.NoError(t, err)
	return p
}

// parallelWorkers is the number of goroutines of inParallel.
const parallelWorkers = 8

// inParallel runs request 400 times from 8 goroutines and returns how many times it
// reported true; any error fails the test.
func inParallel(t *testing.T, request func() (bool, error)) int64 {
	const each = 400 / parallelWorkers
	var n atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, parallelWorkers)
	for w := 0; w < parallelWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ok, err := request()
				if err != nil {
					errs <- err
					return
				}
				if ok {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return n.Load()
}

func uniqueKey(t *testing.T) string {
	return fmt.Sprintf("ip:%s#%d:rule", t.Name(), keySeq.Add(1))
}

func d(v time.Duration) *time.Duration { return &v }
func n(v int) *int                     { return &v }
