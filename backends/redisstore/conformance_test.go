package redisstore_test

import (
	"testing"

	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/ratewarden/ratewarden/core/storetest"
)

// The conformance suite runs on one server (and one cluster) for all its cases: every case
// uses keys of its own. WithRequestTime makes the scripts decide with the cases' instants.

func TestConformanceStandalone(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	for _, cache := range []bool{true, false} {
		name := map[bool]string{true: "local cache", false: "no local cache"}[cache]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) rate.Store {
				return newStore(t, redisConfig(config.RedisStandalone, cache, srv.Addr()), redisstore.WithRequestTime())
			})
		})
	}
}

func TestConformanceCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t)
	storetest.Run(t, func(t *testing.T) rate.Store {
		return newStore(t, redisConfig(config.RedisCluster, false, cl.Addrs()...), redisstore.WithRequestTime())
	})
}
