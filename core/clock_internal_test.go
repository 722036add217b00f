package core

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// The CoarseClock's tests run in testing/synctest bubbles: the ticks are fake time, so
// the lag they assert is exact and nothing waits on the wall clock.

// lag returns how far behind time.Now the clock's reading is, and fails the test when it
// is ahead.
func lag(t *testing.T, c *CoarseClock) time.Duration {
	t.Helper()
	n := c.Now()
	now := time.Now()
	if n.After(now) {
		t.Fatalf("Now() = %v, after time.Now() %v", n, now)
	}
	return now.Sub(n)
}

// TestCoarseClockIsAtMostATickLate: the first reading is time.Now's; while the clock is
// read, every reading is at most a tick behind time.Now, whatever the instant between
// ticks, and the readings move on with the ticks.
func TestCoarseClockIsAtMostATickLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := CoarseClock{anyTime: true}
		if l := lag(t, &c); l != 0 {
			t.Fatalf("the first reading is %v late; want time.Now's", l)
		}
		first, moved := c.Now(), false
		for range 500 {
			time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
			if l := lag(t, &c); l > coarseTick {
				t.Fatalf("a reading %v late, more than a tick (%v)", l, coarseTick)
			}
			moved = moved || c.Now().After(first)
		}
		if !moved {
			t.Fatal("the readings never moved on")
		}
		c.Stop()
	})
}

// TestCoarseClockStopsWhenIdle: the goroutine ends coarseIdle after the last reading;
// the next reading is time.Now's and starts it again.
func TestCoarseClockStopsWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := CoarseClock{anyTime: true}
		c.Now()
		time.Sleep(coarseIdle - 2*coarseTick)
		synctest.Wait()
		if !c.running.Load() {
			t.Fatalf("stopped %v after a reading, before coarseIdle (%v)", coarseIdle-2*coarseTick, coarseIdle)
		}
		time.Sleep(3 * coarseTick) // the reading above was the last
		synctest.Wait()
		if c.running.Load() || c.now.Load() != nil {
			t.Fatalf("still running %v after the last reading", coarseIdle+coarseTick)
		}
		time.Sleep(coarseTick / 2)
		if l := lag(t, &c); l != 0 {
			t.Fatalf("an idle clock's reading is %v late; want time.Now's", l)
		}
		if !c.running.Load() {
			t.Fatal("a reading did not start the idle clock again")
		}
		c.Stop()
	})
}

// TestCoarseClockStop: Stop ends the goroutine at once, with no tick to wait for (in a
// bubble, time stands still once the test's function returns), and the readings after it
// are time.Now's, with no goroutine started again.
func TestCoarseClockStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := CoarseClock{anyTime: true}
		c.Now()
		time.Sleep(coarseTick / 2)
		c.Stop()
		synctest.Wait() // no fake time passes
		if c.running.Load() {
			t.Fatal("running after Stop")
		}
		for range 3 {
			time.Sleep(coarseTick / 3)
			if l := lag(t, &c); l != 0 {
				t.Fatalf("a reading after Stop is %v late; want time.Now's", l)
			}
		}
		if c.running.Load() {
			t.Fatal("a reading after Stop started the goroutine again")
		}
	})
}

// TestCoarseClockConcurrentReadings: readers on several goroutines, each pausing at random
// so that the clock stops and starts again under them, never see a reading ahead of
// time.Now or more than a tick behind it (and -race sees the goroutines' handover).
func TestCoarseClockConcurrentReadings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := CoarseClock{anyTime: true}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 300 {
					if rand.IntN(20) == 0 {
						time.Sleep(coarseIdle + time.Duration(rand.IntN(3))*coarseTick)
					} else {
						time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
					}
					if l := lag(t, &c); l > coarseTick {
						t.Errorf("a reading %v late, more than a tick", l)
						return
					}
				}
			})
		}
		wg.Wait()
		c.Stop()
	})
}

// TestCoarseClockInABubbleReadsTheBubblesTime: in a synctest bubble (fake time from
// 2000-01-01) a CoarseClock reads time.Now on every call and starts no goroutine, so the
// bubble ends without Stop.
func TestCoarseClockInABubbleReadsTheBubblesTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c CoarseClock
		for range 5 {
			if l := lag(t, &c); l != 0 {
				t.Fatalf("a reading %v late in a bubble; want time.Now's", l)
			}
			time.Sleep(300 * time.Microsecond)
		}
		if c.running.Load() {
			t.Fatal("a goroutine ticks in the bubble")
		}
	})
}

// TestLimiterCloseStopsItsClock: a Limiter built without WithClock decides with a
// CoarseClock of its own, which Close stops at once rather than after coarseIdle.
func TestLimiterCloseStopsItsClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := New(config.Config{Default: config.Limits{Limit: 10, Window: time.Minute}}, WithStore(admitAll{}))
		if err != nil {
			t.Fatal(err)
		}
		l.clock.anyTime = true // tick in the bubble's time
		r := httptest.NewRequest("GET", "/", nil)
		var d Decision
		l.Decide(Input{Request: r}, &d)
		if d.Outcome != Allowed || !l.clock.running.Load() {
			t.Fatalf("outcome %v, clock running %v; want allowed, by the Limiter's CoarseClock", d.Outcome, l.clock.running.Load())
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // no fake time passes
		if l.clock.running.Load() {
			t.Fatal("the clock still runs after Close")
		}
	})
}

// admitAll is a store that admits every request with 9 units left.
type admitAll struct{}

func (admitAll) Take(_ context.Context, _ *rate.Request, res *rate.Result) error {
	*res = rate.Result{Allowed: true}
	res.Windows[0] = rate.WindowResult{Allowed: true, Remaining: 9}
	return nil
}
func (admitAll) Reset(context.Context, string, []time.Duration) error { return nil }
func (admitAll) Close() error                                         { return nil }
