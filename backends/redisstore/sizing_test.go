package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// sizingClients is how many clients TestRedisSizing stores per measurement: enough that
// the server's fixed costs (connections, scripts) vanish in the average, and that the key
// dictionaries are sized as for 1M keys (a power of two just above the count: 2,048 slots
// for 2,000 keys, 2^20 for 1M), so the bytes per client hold at scale.
const sizingClients = 2000

// sizingBound is the documented upper bound of Redis memory per client, in bytes, of one
// algorithm: with one window after one request, and with two windows and a penalty after
// a client went over its limit (docs/redis.md, "Sizing", states the same numbers).
type sizingBound struct{ oneWindow, twoWindowsPenalty int64 }

// sizingBounds are the bounds docs/redis.md documents: the bytes measured with
// redis-server 7.0.15 (jemalloc 5.3.0), which are the same in every run (176 with one
// window, 192 for gcra and sliding_window; with two and a penalty 609, 641 for gcra, 929
// for sliding_window),
// rounded up to 10 bytes. A Redis version or allocator that needs more fails
// TestRedisSizing, so the sizing advice cannot silently become wrong.
var sizingBounds = map[rate.Algorithm]sizingBound{
	rate.TokenBucket:          {oneWindow: 180, twoWindowsPenalty: 610},
	rate.GCRA:                 {oneWindow: 200, twoWindowsPenalty: 650},
	rate.FixedWindow:          {oneWindow: 180, twoWindowsPenalty: 610},
	rate.SlidingWindowCounter: {oneWindow: 180, twoWindowsPenalty: 610},
	rate.SlidingWindow:        {oneWindow: 200, twoWindowsPenalty: 930},
}

// TestRedisSizing measures the Redis memory a client costs per algorithm (its keys, values,
// TTLs and dictionary slots: what used_memory, which maxmemory counts, grows by; see
// measureClients) over sizingClients clients with keys of a production length
// ("ratelimit:{ip:10.0.15.160:default}:60"), in two shapes:
//
//   - one window (100 per minute), after one request: one key per client;
//   - two windows (5 per second, 100 per hour) and a penalty (threshold 3), after a client
//     sent 8 requests at once (5 admitted, 3 denied: a cooldown): three keys per client,
//     the sliding window's logs holding 5 admissions each. (The other algorithms keep
//     counts, the same after one request of cost 5 as after 5 of cost 1: they take one,
//     for a shorter test.)
//
// It asserts each stays within the bound docs/redis.md documents, and that the bound is
// not loose by more than half (a bound twice the measure would be wrong advice too).
func TestRedisSizing(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "redis.md"))
	require.NoError(t, err)

	penalty := &rate.PenaltyPolicy{Threshold: 3, Period: 10 * time.Minute, BaseCooldown: time.Minute, Multiplier: 2, MaxCooldown: time.Hour}
	now := time.Unix(1_764_158_400, 0)
	for _, alg := range rate.Algorithms() {
		cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
		cfg.KeyPrefix = config.DefaultKeyPrefix
		s := newStore(t, cfg, redisstore.WithRequestTime())

		one := policy(t, alg, nil, 100, time.Minute)
		oneBytes, oneKeys := measureClients(t, srv, func(id string) {
			take(t, s, id, one, now, 1, true)
		})
		require.EqualValues(t, sizingClients, oneKeys, "%s: one key per client", alg)

		two := policy(t, alg, penalty, 5, time.Second, 100, time.Hour)
		twoBytes, twoKeys := measureClients(t, srv, func(id string) {
			if alg == rate.SlidingWindow { // a log: one member per admission
				for range 5 {
					take(t, s, id, two, now, 1, true)
				}
			} else { // the same state as 5 requests, in one round trip
				take(t, s, id, two, now, 5, true)
			}
			for range 3 {
				take(t, s, id, two, now, 1, false)
			}
		})
		require.EqualValues(t, 3*sizingClients, twoKeys, "%s: two windows and the penalty per client", alg)

		t.Logf("%s: %d bytes per client with one window, %d with two windows and a penalty", alg, oneBytes, twoBytes)
		bound := sizingBounds[alg]
		assert.LessOrEqual(t, oneBytes, bound.oneWindow, "%s, one window: more than docs/redis.md says", alg)
		assert.Greater(t, oneBytes, bound.oneWindow/2, "%s, one window: docs/redis.md says more than twice the measure", alg)
		assert.LessOrEqual(t, twoBytes, bound.twoWindowsPenalty, "%s, two windows and a penalty: more than docs/redis.md says", alg)
		assert.Greater(t, twoBytes, bound.twoWindowsPenalty/2, "%s, two windows and a penalty: docs/redis.md says more than twice the measure", alg)
		row := fmt.Sprintf("| `%s` | %d | %d |", alg, bound.oneWindow, bound.twoWindowsPenalty)
		assert.True(t, strings.Contains(string(doc), row), "docs/redis.md's sizing table lacks the row %q, the bounds this test asserts", row)
	}
}

// take makes one decision of cost for client id at now and requires it admitted or denied.
func take(t *testing.T, s *redisstore.Store, id string, p *rate.Policy, now time.Time, cost int64, allowed bool) {
	var res rate.Result
	if !assert.NoError(t, s.Take(context.Background(), &rate.Request{Key: id, Policy: p, Cost: cost, Now: now}, &res)) {
		return
	}
	assert.Equal(t, allowed, res.Allowed, "%s", id)
}

// measureClients empties the server, runs client for sizingClients client keys
// ("ip:10.0.x.y:default", 16 at a time) and returns the Redis memory per client and the
// number of keys stored. The memory is the sum of every key's MEMORY USAGE (key, value and
// their allocations, SAMPLES 0: every member of a set) and of the database's dictionary
// overhead that MEMORY STATS reports (the main and expires dictionaries' slots and
// entries): what used_memory grows by for the keys, without the noise of the
// connections' buffers, which grow and shrink with the client's pipelining (the growth of
// used_memory itself varied by up to ±50 bytes a client between runs).
func measureClients(t *testing.T, srv *redistest.Server, client func(id string)) (perClient, keys int64) {
	t.Helper()
	ctx := context.Background()
	rdb := srv.Client()
	require.NoError(t, rdb.FlushAll(ctx).Err())

	ids := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for id := range ids {
				client(id)
			}
		})
	}
	for i := range sizingClients {
		ids <- fmt.Sprintf("ip:10.0.%d.%d:default", i/250, i%250)
	}
	close(ids)
	wg.Wait()

	var total int64
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	var names []string
	for iter.Next(ctx) {
		names = append(names, iter.Val())
	}
	require.NoError(t, iter.Err())
	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range names {
			p.MemoryUsage(ctx, k, 0)
		}
		return nil
	})
	require.NoError(t, err)
	for _, c := range cmds {
		total += c.(*redis.IntCmd).Val()
	}
	// MEMORY USAGE counts each key's entry in the main dictionary, which the dictionary
	// overhead counts too: count it once (sizeof(dictEntry), 24 bytes on 64 bits).
	total += dictOverhead(t, rdb) - 24*int64(len(names))
	return total / sizingClients, int64(len(names))
}

// dictOverhead is the memory of database 0's main and expires dictionaries, from MEMORY
// STATS.
func dictOverhead(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	stats, err := rdb.Do(context.Background(), "MEMORY", "STATS").Result()
	require.NoError(t, err)
	db0, ok := field(stats, "db.0")
	require.True(t, ok, "MEMORY STATS without db.0: %v", stats)
	var sum int64
	for _, name := range []string{"overhead.hashtable.main", "overhead.hashtable.expires"} {
		v, ok := field(db0, name)
		require.True(t, ok, "MEMORY STATS db.0 without %s: %v", name, db0)
		n, ok := v.(int64)
		require.True(t, ok, "%s: %v", name, v)
		sum += n
	}
	return sum
}

// field is the value of name in a map reply: a map (RESP3) or a flat list of names and
// values (RESP2).
func field(reply any, name string) (any, bool) {
	switch m := reply.(type) {
	case map[any]any:
		v, ok := m[name]
		return v, ok
	case []any:
		for i := 0; i+1 < len(m); i += 2 {
			if m[i] == name {
				return m[i+1], true
			}
		}
	}
	return nil, false
}
