package core

import (
	"testing"
	"time"
)

// TestNowReadsTimeNow checks that Now's times sit between two time.Now calls around it,
// on the monotonic clock (which time.Time comparisons use) and on the wall clock.
func TestNowReadsTimeNow(t *testing.T) {
	for i := range 3 { // the first call may rebase, the others add to the base
		before := time.Now()
		n := Now()
		after := time.Now()
		if n.Before(before) || n.After(after) {
			t.Fatalf("call %d: Now() = %v, not between %v and %v (monotonic)", i, n, before, after)
		}
		// The wall clock: within a rebase period, as a system clock step may show late.
		if w := n.Round(0); w.Before(before.Round(0).Add(-clockRebase)) || w.After(after.Round(0).Add(clockRebase)) {
			t.Fatalf("call %d: Now() = %v, wall clock not within %s of %v–%v", i, w, clockRebase, before, after)
		}
	}
}

// TestMonoClockRebases checks that a base younger than clockRebase is added to, and an
// older one is replaced by a fresh time.Now.
func TestMonoClockRebases(t *testing.T) {
	var c monoClock
	young := time.Now().Add(-clockRebase / 2)
	c.base.Store(&young)
	if n := c.now(); c.base.Load() != &young || n.Sub(young) < clockRebase/2 {
		t.Fatalf("young base: now() = %v (base %v, replaced: %v)", n, young, c.base.Load() != &young)
	}
	old := time.Now().Add(-2 * clockRebase)
	c.base.Store(&old)
	before := time.Now()
	n := c.now()
	if c.base.Load() == &old || n.Before(before) {
		t.Fatalf("old base: now() = %v before %v, or base kept (%v)", n, before, c.base.Load() == &old)
	}
}
