package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
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

// TestSlidingWindowStatesOfOtherWriters: one ZADD adds an admission's member and sets the
// total "#", and tells from its answer whether the member was new. A decision on a state
// another writer left — an older version's names (j was the set's size, so "t:3:1" may
// be taken), a set holding only its total, an older layout without a total — adds
// exactly one member for its admission and sets the total to the units held.
func TestSlidingWindowStatesOfOtherWriters(t *testing.T) {
	t.Parallel()
	s, c := requestTimeStore(t, "ow")
	p := policy(t, rate.SlidingWindow, nil, 10, time.Minute)
	ctx := context.Background()
	now := time.Unix(1_764_158_400, 0)
	us := now.UnixMicro()
	name := func(j, units int) string { return fmt.Sprintf("%d:%d:%d", us, j, units) }
	for _, tc := range []struct {
		name    string
		state   []redis.Z
		members []string // after one admission, "#" aside
		total   float64  // "#"'s score after it
	}{
		{"older names at the same instant", []redis.Z{{Score: -2, Member: "#"}, {Score: float64(us), Member: name(1, 1)}, {Score: float64(us), Member: name(3, 1)}},
			[]string{name(1, 1), name(3, 1), name(4, 1)}, -3},
		{"a total alone", []redis.Z{{Score: -1, Member: "#"}}, []string{name(1, 1)}, -1},
		{"an older layout", []redis.Z{{Score: float64(us), Member: fmt.Sprintf("%d:1", us)}},
			[]string{fmt.Sprintf("%d:1", us), name(2, 1)}, -2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "ip:192.0.2.80:" + strings.ReplaceAll(tc.name, " ", "-")
			redisKey := "ow:{" + key + "}:60"
			require.NoError(t, c.ZAdd(ctx, redisKey, tc.state...).Err())
			var res rate.Result
			require.NoError(t, s.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: now}, &res))
			require.True(t, res.Allowed)
			total, got := logOf(t, c, redisKey)
			assert.Equal(t, tc.total, total, "the total")
			assert.ElementsMatch(t, tc.members, got)
			assert.Equal(t, int64(10)+int64(tc.total), res.Windows[0].Remaining)
		})
	}
}

// TestSlidingWindowCorruptTotals: a total "#" that no version writes — not below zero, or
// claiming fewer units than those that left the window — makes the set another program's
// state, decided fresh and replaced as another algorithm's is: the window admits exactly
// its limit from there, and the admission's member carries its units readably. (A positive
// total was counted as units that left and rewritten each time: 12 of 12 admitted under a
// limit of 3; a total above minus the units that left named the member "<t>:-1:2", whose
// units read as 1. Found by an attacker review.)
func TestSlidingWindowCorruptTotals(t *testing.T) {
	t.Parallel()
	s, c := requestTimeStore(t, "ct")
	p := policy(t, rate.SlidingWindow, nil, 3, time.Minute)
	ctx := context.Background()
	now := time.Unix(1_764_158_400, 0)
	at := func(ago time.Duration, units int) redis.Z {
		us := now.Add(-ago).UnixMicro()
		return redis.Z{Score: float64(us), Member: fmt.Sprintf("%d:1:%d", us, units)}
	}
	for _, tc := range []struct {
		name  string
		state []redis.Z
		cost  int64
	}{
		{"a positive total", []redis.Z{{Score: 5, Member: "#"}, at(10*time.Second, 1)}, 1},
		{"a total of zero", []redis.Z{{Score: 0, Member: "#"}, at(10*time.Second, 1)}, 1},
		{"fewer units than left", []redis.Z{{Score: -1, Member: "#"}, at(70*time.Second, 3)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "ip:192.0.2.81:" + strings.ReplaceAll(tc.name, " ", "-")
			redisKey := "ct:{" + key + "}:60"
			require.NoError(t, c.ZAdd(ctx, redisKey, tc.state...).Err())
			admitted := int64(0)
			for range 12 {
				var res rate.Result
				require.NoError(t, s.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: tc.cost, Now: now}, &res))
				if res.Allowed {
					admitted += tc.cost
				}
			}
			assert.Equal(t, 3/tc.cost*tc.cost, admitted, "units admitted in one window of limit 3")
			total, members := logOf(t, c, redisKey)
			assert.Equal(t, float64(-admitted), total, "the total")
			held := int64(0)
			for _, m := range members {
				assert.Regexp(t, `^\d+:\d+:\d+$`, m)
				var us, j, units int64
				_, err := fmt.Sscanf(m, "%d:%d:%d", &us, &j, &units)
				require.NoError(t, err)
				held += units
			}
			assert.Equal(t, admitted, held, "the units the members hold")
		})
	}
}

// TestSlidingWindowCommands counts the Redis commands of a sliding_window decision (INFO
// commandstats): a fresh key's admission is ZRANGE, ZADD, PEXPIRE; a common one, ZRANGE,
// ZRANGEBYSCORE (the total and what left), ZADD (the admission and the total), PEXPIRE;
// one whose earlier admissions left the window adds ZREMRANGEBYSCORE, and the total is
// still written once; a denial that removes them writes the total alone.
func TestSlidingWindowCommands(t *testing.T) {
	t.Parallel()
	s, c := requestTimeStore(t, "cc")
	p := policy(t, rate.SlidingWindow, nil, 2, time.Minute)
	ctx := context.Background()
	t0 := time.Unix(1_764_158_400, 0)
	decide := func(at time.Time, cost int64) (bool, map[string]int) {
		t.Helper()
		var warm rate.Result // loads the script (EVALSHA, then EVAL on NOSCRIPT) before counting
		require.NoError(t, s.Take(ctx, &rate.Request{Key: "ip:192.0.2.83:warm", Policy: p, Cost: 1, Op: rate.OpPeek, Now: at}, &warm))
		require.NoError(t, c.ConfigResetStat(ctx).Err())
		var res rate.Result
		require.NoError(t, s.Take(ctx, &rate.Request{Key: "ip:192.0.2.83:default", Policy: p, Cost: cost, Now: at}, &res))
		stats := commandStats(t, c)
		delete(stats, "evalsha")
		delete(stats, "eval")
		delete(stats, "fcall")
		delete(stats, "info")
		delete(stats, "config|resetstat")
		return res.Allowed, stats
	}
	for _, step := range []struct {
		at      time.Duration
		cost    int64
		allowed bool
		want    map[string]int
	}{
		{0, 1, true, map[string]int{"zrange": 1, "zadd": 1, "pexpire": 1}},
		{10 * time.Second, 1, true, map[string]int{"zrange": 1, "zrangebyscore": 1, "zadd": 1, "pexpire": 1}},
		// t0's admission has left: removed, and this one added, the total written once.
		{65 * time.Second, 1, true, map[string]int{"zrange": 1, "zrangebyscore": 1, "zremrangebyscore": 1, "zadd": 1, "pexpire": 1}},
		// t0+10s's has left; a cost of 2 waits for t0+65s's: removed, the total written alone.
		{75 * time.Second, 2, false, map[string]int{"zrange": 2, "zrangebyscore": 1, "zremrangebyscore": 1, "zadd": 1}},
	} {
		allowed, stats := decide(t0.Add(step.at), step.cost)
		assert.Equal(t, step.allowed, allowed, "at t0+%s", step.at)
		assert.Equal(t, step.want, stats, "at t0+%s", step.at)
	}
}

// requestTimeStore is a store that decides at the requests' own times (WithRequestTime),
// on a redis-server of its own, its keys under prefix; and a client of that server.
func requestTimeStore(t *testing.T, prefix string) (*redisstore.Store, *redis.Client) {
	t.Helper()
	srv := redistest.StartServer(t)
	cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
	cfg.KeyPrefix = prefix
	return newStore(t, cfg, redisstore.WithRequestTime()), srv.Client()
}

// logOf reads a sliding window's sorted set at key: the total's score (0 without one) and
// the other members.
func logOf(t *testing.T, c *redis.Client, key string) (total float64, members []string) {
	t.Helper()
	zs, err := c.ZRangeWithScores(context.Background(), key, 0, -1).Result()
	require.NoError(t, err)
	for _, z := range zs {
		if z.Member == "#" {
			total = z.Score
			continue
		}
		members = append(members, z.Member.(string))
	}
	return total, members
}
