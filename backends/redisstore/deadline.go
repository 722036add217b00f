package redisstore

import (
	"context"
	"sync/atomic"
	"time"
)

// A decision's budget (redis.timeout) bounds its call through a context deadline, which go-redis
// applies to every wait: socket reads and writes (ContextTimeoutEnabled), the wait for a
// pooled connection or a dial, retries. context.WithDeadline arms a runtime timer, and a
// timer that becomes the earliest makes the runtime wake its network poller or another
// thread to watch it (runtime.wakeNetPoller). One per decision cost 4–6 µs of a serial
// decision's ~180 µs on the 2-vCPU VM: the same script sent through go-redis without a
// deadline is as fast as go-redis/redis_rate's, and the Store's lone decisions were
// 8.6–10.5 µs slower than redis_rate's with a deadline each, 4.4–6.2 µs with none
// (interleaved runs; -cpuprofile shows futexwakeup under the timer's creation).
//
// So the decisions a Store sends alone (a lone decision on one Redis, every decision on a
// Cluster) share deadline contexts: a decision uses the latest one when it ends no later
// than its own deadline and at most budget/[deadlineShare] earlier, and makes a new one
// otherwise. Under a steady stream, that is one timer per budget/10 (every 10 ms at the
// default 100 ms) rather than one per decision; each decision still ends by its own
// deadline, and gets at least 9/10 of its budget. Batches keep a context of their own
// (batcher.runBatch): one per batch is cheap already.

// deadlineShare sets how much of its budget a decision may give up to share a deadline
// context: budget/deadlineShare.
const deadlineShare = 10

// deadlines hands decisions deadline contexts, shared where they may be (see above). It is
// safe for concurrent use.
type deadlines struct {
	slack time.Duration // budget/deadlineShare
	// shared reports whether a decision may run under a context other than its caller's,
	// without its values: only on the Store's own client, which has no hooks (a caller's
	// client may trace calls from the values of the caller's context). go-redis's global
	// logger and pool metric callbacks then get the shared context, without the values.
	shared bool
	latest atomic.Pointer[sharedDeadline]
}

// sharedDeadline is a context.WithDeadline of context.Background, shared by the decisions
// that end within slack after its deadline. Nothing cancels it but its deadline, which
// releases its timer: decisions may be running under it when a newer one replaces it, or
// when the Store closes, and canceling it then would fail them as context.Canceled, the
// error of a caller who gave up (TestADecisionInFlightAtCloseFailsAsAClosedClient).
type sharedDeadline struct {
	ctx      context.Context
	cancel   context.CancelFunc // called by no one (see above); kept for go vet's lostcancel
	deadline time.Time
}

func newDeadlines(budget time.Duration, shared bool) *deadlines {
	return &deadlines{slack: budget / deadlineShare, shared: shared}
}

// context returns a context that ends by deadline, for a decision whose caller's context is
// parent, and the function that releases it. A parent that can be canceled or has a deadline
// (Done is not nil) gets a context.WithDeadline of its own, so that the caller's cancellation
// and values reach go-redis; so does every parent when contexts may not be shared.
func (d *deadlines) context(parent context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	if !d.shared || parent.Done() != nil {
		return context.WithDeadline(parent, deadline)
	}
	if s := d.latest.Load(); s != nil && !s.deadline.After(deadline) && deadline.Sub(s.deadline) <= d.slack {
		return s.ctx, noRelease
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	d.latest.Store(&sharedDeadline{ctx: ctx, cancel: cancel, deadline: deadline})
	return ctx, noRelease
}

// noRelease is the release function of a shared context, which its deadline releases.
func noRelease() {}
