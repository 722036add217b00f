package redisstore

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// TestLoneDecisionsShareADeadlineWithinTheSlack: decisions whose deadlines are at most
// budget/10 apart share one context (one timer), never one that ends after a decision's
// own deadline.
func TestLoneDecisionsShareADeadlineWithinTheSlack(t *testing.T) {
	const budget = 100 * time.Millisecond
	d := newDeadlines(budget, true)
	base := time.Now().Add(time.Hour) // the contexts' timers never fire during the test
	bg := context.Background()

	first, _ := d.context(bg, base)
	again, _ := d.context(bg, base.Add(budget/10))
	assert.Same(t, first.(any), again.(any), "a deadline within the slack shares the context")

	later, _ := d.context(bg, base.Add(budget/10+time.Nanosecond))
	assert.NotSame(t, first.(any), later.(any), "past the slack, a new context")
	dl, ok := later.Deadline()
	require.True(t, ok)
	assert.Equal(t, base.Add(budget/10+time.Nanosecond), dl)

	earlier, _ := d.context(bg, base)
	assert.NotSame(t, later.(any), earlier.(any), "a context that ends after the decision's deadline is never shared with it")
	dl, _ = earlier.Deadline()
	assert.Equal(t, base, dl)
}

// TestASharedDeadlineNeverExtendsNorCutsABudgetByMoreThanTheSlack, over random sequences
// of deadlines: every context ends by its decision's deadline, and at most budget/10
// before it.
func TestASharedDeadlineNeverExtendsNorCutsABudgetByMoreThanTheSlack(t *testing.T) {
	const budget = 100 * time.Millisecond
	d := newDeadlines(budget, true)
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Now().Add(time.Hour)
	contexts := map[context.Context]bool{}
	for range 2000 {
		// Mostly increasing, as calls start, sometimes a step back (a caller descheduled).
		at = at.Add(time.Duration(rng.Int64N(int64(budget/25))) - budget/100)
		ctx, release := d.context(context.Background(), at)
		dl, ok := ctx.Deadline()
		require.True(t, ok)
		require.False(t, dl.After(at), "the context ends after the decision's deadline")
		require.LessOrEqual(t, at.Sub(dl), budget/10, "the context takes more than the slack")
		contexts[ctx] = true
		release()
	}
	t.Logf("2000 decisions, %d contexts", len(contexts))
	assert.Less(t, len(contexts), 500, "the contexts are shared")
}

// TestACallersCancellationAndValuesReachItsDecision: a caller's context that can end or
// carries a deadline gets a context of its own, derived from it; so does every context on
// a client the Store does not own, whose hooks may read the caller's values.
func TestACallersCancellationAndValuesReachItsDecision(t *testing.T) {
	const budget = 100 * time.Millisecond
	deadline := time.Now().Add(time.Hour)

	d := newDeadlines(budget, true)
	shared, _ := d.context(context.Background(), deadline)
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	ctx, release := d.context(parent, deadline)
	defer release()
	assert.NotSame(t, shared.(any), ctx.(any))
	assert.Equal(t, "v", ctx.Value(ctxKey{}))
	cancel()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)

	foreign := newDeadlines(budget, false)
	withValue := context.WithValue(context.Background(), ctxKey{}, "w")
	a, releaseA := foreign.context(withValue, deadline)
	defer releaseA()
	b, releaseB := foreign.context(withValue, deadline)
	defer releaseB()
	assert.NotSame(t, a.(any), b.(any), "a caller's client gets no shared context")
	assert.Equal(t, "w", a.Value(ctxKey{}))
	dl, _ := a.Deadline()
	assert.Equal(t, deadline, dl)
}

// TestASharedDeadlineEnds: a shared context ends at its deadline like any other, which
// bounds every wait of go-redis on it.
func TestASharedDeadlineEnds(t *testing.T) {
	d := newDeadlines(100*time.Millisecond, true)
	ctx, _ := d.context(context.Background(), time.Now().Add(time.Millisecond))
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
}
