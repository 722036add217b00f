package core

import (
	"sync/atomic"
	"time"
)

// Now is the clock a [Limiter] decides with unless [WithClock] replaces it: the current
// time, with time.Now's wall-clock and monotonic readings, for about half the cost.
//
// time.Now reads two clocks, the wall clock and the monotonic one. Now reads the monotonic
// clock alone (time.Since) and adds what it measured to a time.Now it took at most
// [clockRebase] earlier. Its monotonic reading is exactly time.Now's, so durations and
// comparisons between its times are the same; its wall-clock reading follows the system
// clock's rate, and follows a step of the system clock (a manual change, an NTP step, a
// resumed virtual machine) within [clockRebase]. The stores decide on the wall-clock
// reading and never let a window's time go back (rate.KeyState), so a step seen a second
// late changes no decision that time.Now would have made otherwise. It is safe for
// concurrent use.
func Now() time.Time { return wallClock.now() }

// clockRebase is how often, at most, [Now] reads the wall clock again.
const clockRebase = time.Second

var wallClock monoClock

// monoClock is [Now]'s state: the last time.Now it took, with its monotonic reading.
type monoClock struct{ base atomic.Pointer[time.Time] }

func (c *monoClock) now() time.Time {
	if b := c.base.Load(); b != nil {
		if d := time.Since(*b); d < clockRebase {
			return b.Add(d)
		}
	}
	t := time.Now()
	c.base.Store(&t)
	return t
}
