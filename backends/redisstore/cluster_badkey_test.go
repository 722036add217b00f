package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// badKeyCluster starts a Cluster and returns a store on the scripts (EVALSHA), a decide
// function (a take, or a peek, on key), and a healthy key served by the same master as
// "bad" — which it then makes refuse every write (maxmemory 1, noeviction), so that a
// take of "bad" fails inside the script, as a request the script failed on, while that
// master still answers (a peek, which writes nothing, is decided). (A FCALL is refused
// whole by a master out of memory: the store is on the scripts.)
func badKeyCluster(t *testing.T) (*redisstore.Store, func(key string, op rate.Op) error, string) {
	ctx := context.Background()
	cl := redistest.StartCluster(t)
	cfg := redisConfig(config.RedisCluster, false, cl.Addrs()...)
	cfg.FailMode = config.FailClosed
	cfg.Redis.CircuitBreaker = config.CircuitBreakerConfig{FailureThreshold: 5, OpenTimeout: 5 * time.Second} // the defaults
	store := storeOn(t, cfg, false)
	p := policy(t, rate.TokenBucket, nil, 100, time.Minute)
	bad, err := cl.MasterFor(ctx, "{bad}")
	require.NoError(t, err)
	var good string
	for i := 0; good == ""; i++ {
		k := fmt.Sprintf("ip:192.0.2.%d:good-%d", i%250, i)
		m, err := cl.MasterFor(ctx, "{"+k+"}")
		require.NoError(t, err)
		if m == bad {
			good = k
		}
	}
	decide := func(key string, op rate.Op) error {
		var res rate.Result
		return store.Take(ctx, &rate.Request{Key: key, Policy: p, Cost: 1, Now: time.Now(), Op: op}, &res)
	}
	require.NoError(t, decide(good, rate.OpTake)) // loads the script on that master
	require.NoError(t, bad.Client().ConfigSet(ctx, "maxmemory", "1").Err())
	return store, decide, good
}

func scriptErr(err error) bool {
	var rerr *redisstore.Error
	return errors.As(err, &rerr) && rerr.Kind == rate.KindScript
}

// TestABadKeyDoesNotSendTheWholeClusterAlone: decisions the script fails on (a write its
// master refuses: no node outage, every master answers) do not flip every
// client's decisions off the AutoPipeliner. (Found by an attacker review of 43dd54b: the
// next decision of that master found its breaker failing and sent every decision of the
// Cluster alone for two open_timeouts; one bad decision every 10 s kept it so.)
func TestABadKeyDoesNotSendTheWholeClusterAlone(t *testing.T) {
	t.Parallel()
	store, decide, good := badKeyCluster(t)
	assert.False(t, redisstore.Hung(store))
	for range 3 {
		require.True(t, scriptErr(decide("bad", rate.OpTake)))
		require.NoError(t, decide(good, rate.OpPeek))
		assert.False(t, redisstore.Hung(store), "a script error on one key sends every decision of the Cluster alone")
	}
}

// TestABadKeyDoesNotOpenItsMastersBreaker: failure_threshold (5) decisions of the bad key
// in a row leave its master's breaker closed, as on one Redis
// (TestBatchIsolatesAFailingDecision): that master answers every call. (Found by the same
// review: they opened it, and every other key of that master failed with circuit_open for
// open_timeout.)
func TestABadKeyDoesNotOpenItsMastersBreaker(t *testing.T) {
	t.Parallel()
	_, decide, good := badKeyCluster(t)
	for range 5 {
		require.True(t, scriptErr(decide("bad", rate.OpTake)))
	}
	err := decide(good, rate.OpPeek)
	assert.NoError(t, err, "a healthy key of the bad key's master")
}
