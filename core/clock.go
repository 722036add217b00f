package core

import (
	"sync"
	"sync/atomic"
	"time"
)

// CoarseClock is the clock a [Limiter] decides with unless [WithClock] replaces it: the
// current time as of the last tick of a goroutine that reads time.Now every millisecond
// while decisions are made, so that a decision reads the clock with one atomic load
// (2–3 ns against time.Now's 55 ns on the 2-vCPU VM, whose clock source is kvm-clock: a
// quarter of a memory-store decision). The technique is Linux's coarse clocks
// (CLOCK_MONOTONIC_COARSE) and the cached time of high-rate servers (nginx, Envoy).
//
// A time it returns is at most a tick behind time.Now — more only while the process is
// starved of CPU — and never ahead. Everything the Limiter times is exact on this clock:
// within any span of its time, a policy admits what it allows. Measured in wall time the
// spans can differ by as much as the lag changes between their two ends, at most a tick:
// a window of 1 s can end after 999 ms of wall time, a JWT verify up to a tick past its
// exp plus leeway, a cooldown be a tick shorter (docs/algorithms.md, "The clock"). Times of
// calls that overlap a restart of the goroutine can come out of order by as long as a
// goroutine is descheduled, as times read on different goroutines can; the stores decide
// at max(now, the time of the window's last change). The times carry time.Now's monotonic
// reading, and the wall-clock reading follows a step of the system clock within a tick.
//
// The goroutine starts with the first Now after the clock was idle and stops after 10 ms
// without a Now, or at [CoarseClock.Stop]; while stopped, Now reads time.Now
// itself. So an idle Limiter costs nothing, and one that decides costs a thousand wake-ups
// a second (about 0.1 % of a core). Each Limiter has its own.
//
// A reading before 2020 starts no goroutine and is returned as is: that is the fake time of
// a testing/synctest bubble, which starts at 2000-01-01 (or a system clock not yet set). So
// a Limiter used in a bubble decides with the bubble's time.Now, as it would with
// WithClock(time.Now), and its clock starts no goroutine there (unless the bubble's time
// passes 2020: then Stop, or Limiter.Close, ends it). A Limiter shared by a bubble and
// code outside it decides the bubble's requests with the outside's time while the outside
// keeps its clock ticking.
//
// The zero value is ready to use. It is safe for concurrent use.
type CoarseClock struct {
	now     atomic.Pointer[time.Time] // the last tick's time; nil while the goroutine is stopped
	used    atomic.Bool               // Now was called since the last tick
	running atomic.Bool               // the goroutine runs (set before it starts, cleared as it ends)
	stopped atomic.Bool               // Stop was called
	once    sync.Once                 // makes done
	done    chan struct{}             // closed by Stop
	// anyTime lets readings before 2020 start the goroutine too: the tests of the ticks,
	// which run in synctest bubbles.
	anyTime bool
}

// coarseTick is how often a running [CoarseClock] reads time.Now: the most its times are
// behind.
const coarseTick = time.Millisecond

// coarseIdle is how long a [CoarseClock] ticks without a Now before its goroutine ends.
const coarseIdle = 10 * coarseTick

// coarseSince is the first instant a [CoarseClock] ticks at: testing/synctest bubbles
// start their time at 2000-01-01 UTC.
var coarseSince = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Now returns the current time, at most a millisecond late (see [CoarseClock]). It is the
// function to pass where a clock is asked for: core.WithClock(c.Now).
func (c *CoarseClock) Now() time.Time {
	if t := c.now.Load(); t != nil {
		if !c.used.Load() { // a write per tick, not per call: callers on other cores share the line
			c.used.Store(true)
		}
		return *t
	}
	t := time.Now()
	if t.Before(coarseSince) && !c.anyTime || c.stopped.Load() || !c.running.CompareAndSwap(false, true) {
		return t
	}
	t = time.Now() // read after winning: the readers that lost read time.Now meanwhile
	c.now.Store(&t)
	go c.tick(c.stop())
	return t
}

// Stop ends the clock's goroutine at once; Now reads time.Now itself from then on.
// [Limiter.Close] stops the Limiter's clock. (At once, not at the next tick: in a
// testing/synctest bubble, time stops when the test's function returns.) Stop may be
// called more than once.
func (c *CoarseClock) Stop() {
	if !c.stopped.Swap(true) {
		close(c.stop())
	}
}

// stop returns the channel Stop closes.
func (c *CoarseClock) stop() chan struct{} {
	c.once.Do(func() { c.done = make(chan struct{}) })
	return c.done
}

// tick publishes time.Now every coarseTick until the clock is idle for coarseIdle or
// done is closed.
func (c *CoarseClock) tick(done <-chan struct{}) {
	ticker := time.NewTicker(coarseTick)
	defer func() {
		ticker.Stop()
		// Now reads time.Now once now is nil, and starts a goroutine again once running is
		// false: in this order, at most one goroutine runs.
		c.now.Store(nil)
		c.running.Store(false)
	}()
	for idle := time.Duration(0); idle < coarseIdle; {
		select {
		case <-done:
			return
		case <-ticker.C:
		}
		if c.used.Swap(false) {
			idle = 0
		} else {
			idle += coarseTick
		}
		t := time.Now()
		c.now.Store(&t)
	}
}
