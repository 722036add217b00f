package redisstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestDeniedDecisionsRemoveTheAdmissionsThatLeft: the attack of a client denied for long
// on Redis — windows of 100,000 an hour and 100,000 two hours, filled by 10,000
// admissions of 10 units over 100 s (10,000 members: 100,000 admissions of one unit take
// a minute to send under -race; core's TestDeniedDecisionsDropTheAdmissionsThatLeft sends
// them), then requests once the first of them have left the hour. Every
// decision but a peek, denied or not, removes the members that have left a window, so that
// no later decision reads them again (they were read by every decision, in a Lua loop on
// Redis's one thread, while no consume ran): after each the hour's set holds only what is
// still in it, plus its total "#", and nothing once all of it has left (the two hours'
// set likewise).
func TestDeniedDecisionsRemoveTheAdmissionsThatLeft(t *testing.T) {
	t.Parallel()
	const limit, cost, perSecond = 100_000, 10, 100
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.KeyPrefix = "tr"
	s := newStore(t, cfg, redisstore.WithRequestTime())
	p := policy(t, rate.SlidingWindow, nil, limit, time.Hour, limit, 2*time.Hour)
	ctx, c := context.Background(), srv.Client()
	const key = "ip:203.0.113.9:default"
	hourKey, twoHoursKey := "tr:{"+key+"}:3600", "tr:{"+key+"}:7200"
	start := time.Unix(1_764_158_400, 0)
	decide := func(op rate.Op, at time.Time) rate.Result {
		var res rate.Result
		require.NoError(t, s.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: at, Op: op}, &res))
		return res
	}
	const members = limit / cost
	for sec := range members / perSecond { // 100 admissions at each second, from 4 goroutines
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range perSecond / 4 {
					var res rate.Result
					err := s.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: cost, Now: start.Add(time.Duration(sec) * time.Second)}, &res)
					if err != nil || !res.Allowed {
						t.Errorf("admission at %d s: allowed %v, %v", sec, res.Allowed, err)
					}
				}
			})
		}
		wg.Wait()
	}
	require.False(t, t.Failed())
	require.Equal(t, int64(members+1), c.ZCard(ctx, hourKey).Val())
	before := c.MemoryUsage(ctx, hourKey, 0).Val()

	hour := start.Add(time.Hour)
	for _, step := range []struct {
		op      rate.Op
		at      time.Duration // after the hour: the admissions of seconds 0 to at have left it
		allowed bool
		members int64 // of the hour's set after the decision, its total "#" included
	}{
		{rate.OpPeek, 25 * time.Second, false, members + 1}, // a peek writes nothing
		{rate.OpTake, 25 * time.Second, false, members - 26*perSecond + 1},
		{rate.OpTake, 25 * time.Second, false, members - 26*perSecond + 1},
		{rate.OpCheck, 50 * time.Second, false, members - 51*perSecond + 1},
		{rate.OpConsume, 75 * time.Second, true, members - 76*perSecond + 1 + 1}, // beyond full in the 2 h window
		{rate.OpPeek, 2 * time.Hour, true, members - 76*perSecond + 1 + 1},
		{rate.OpTake, 100 * time.Second, false, 1 + 1}, // the consume's, and "#"
	} {
		res := decide(step.op, hour.Add(step.at))
		require.Equal(t, step.allowed, res.Allowed, "%s at the hour + %s", step.op, step.at)
		require.Equal(t, step.members, c.ZCard(ctx, hourKey).Val(), "%s at the hour + %s: members of the hour's set", step.op, step.at)
		require.Equal(t, members+1+min(1, int64(step.at/(75*time.Second))), c.ZCard(ctx, twoHoursKey).Val(), "%s at the hour + %s: members of the two hours' set", step.op, step.at)
	}
	after := c.MemoryUsage(ctx, hourKey, 0).Val()
	t.Logf("MEMORY USAGE of the hour's set: %d bytes filled, %d after the denials", before, after)

	// Once every admission has left the hour, a check deletes its set.
	require.True(t, decide(rate.OpCheck, hour.Add(time.Hour+76*time.Second)).Allowed)
	require.Zero(t, c.Exists(ctx, hourKey).Val())
	require.Equal(t, int64(members-77*perSecond+1+1), c.ZCard(ctx, twoHoursKey).Val())
}
