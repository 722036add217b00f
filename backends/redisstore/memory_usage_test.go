package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestBytesPerKeyInRedis measures what one window's key costs in Redis (MEMORY USAGE, its
// 35-byte name "<4 letters>:{ip:203.0.113.7:default}:3600" included), per algorithm, after 1 and
// after 100 requests of 1000 per hour, one a second; docs/algorithms.md quotes it. Every
// algorithm but sliding_window keeps a string of a few numbers, so sliding_window_counter
// costs what the token bucket does whatever the traffic.
func TestBytesPerKeyInRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	ctx := context.Background()
	bytes := map[rate.Algorithm][2]int64{}
	for _, alg := range algorithms {
		// One key per algorithm, all of the same length, on one server: the prefixes differ.
		cfg := redisConfig(config.RedisStandalone, false, srv.Addr())
		cfg.KeyPrefix = alg.String()[:2] + alg.String()[len(alg.String())-2:]
		s := newStore(t, cfg, redisstore.WithRequestTime())
		p := policy(t, alg, nil, 1000, time.Hour)
		key := cfg.KeyPrefix + ":{ip:203.0.113.7:default}:3600"
		var got [2]int64
		for i := range 100 {
			var res rate.Result
			now := time.Unix(1_764_158_400, 0).Add(time.Duration(i) * time.Second)
			require.NoError(t, s.Take(ctx, &rate.Request{Key: "ip:203.0.113.7:default", Policy: p, Cost: 1, Now: now}, &res))
			require.True(t, res.Allowed)
			if i == 0 || i == 99 {
				n, err := srv.Client().MemoryUsage(ctx, key, 0).Result()
				require.NoError(t, err, key)
				got[i/99] = n
			}
		}
		bytes[alg] = got
		t.Logf("%s: %d bytes after 1 request, %d after 100", alg, got[0], got[1])
	}
	for _, alg := range rate.Algorithms() {
		if alg == rate.SlidingWindow {
			continue // a log, below
		}
		for _, n := range bytes[alg] { // a string of a few numbers, whatever the traffic
			require.LessOrEqual(t, n, bytes[rate.TokenBucket][0]+16, "%s: within an allocation class of the token bucket", alg)
		}
	}
	require.Greater(t, bytes[rate.SlidingWindow][1], bytes[rate.SlidingWindow][0]+50*16, "sliding_window: grows with the requests it holds")
}
