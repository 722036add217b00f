package redisstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

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
			conformance(t, redisConfig(config.RedisStandalone, cache, srv.Addr()))
		})
	}
}

// conformance runs the storetest suite on stores cfg describes.
func conformance(t *testing.T, cfg config.Config) {
	storetest.Run(t, func(t *testing.T) rate.Store {
		return newStore(t, cfg, redisstore.WithRequestTime())
	})
}

// suites runs the three tests that prove the store's semantics — the conformance suite,
// the differential test against the memory store (TestSameResultsAsMemory) and the
// over-admission property (TestPolicyChangesNeverOverAdmit) — on the Redis cfg describes.
// They run on a standalone server above; here on the other ways a Store reaches Redis,
// with one random sequence per case where the standalone tests run three: the decision
// code is the same, what differs is how it reaches Redis.
func suites(t *testing.T, cfg config.Config) {
	t.Run("conformance", func(t *testing.T) {
		t.Parallel()
		conformance(t, cfg)
	})
	t.Run("differential", func(t *testing.T) {
		t.Parallel()
		sameResultsAsMemory(t, cfg, 1)
	})
	t.Run("property", func(t *testing.T) {
		t.Parallel()
		policyChangesNeverOverAdmit(t, cfg, 1)
	})
}

// TestSuitesCluster: the suites on a 3-master Cluster, over FCALL, with the library loaded
// on each master as its first decision finds it missing.
func TestSuitesCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t)
	t.Run("suites", func(t *testing.T) { suites(t, redisConfig(config.RedisCluster, false, cl.Addrs()...)) })
	for _, node := range cl.Nodes() {
		assert.Positive(t, commandStats(t, node.Client())["fcall"], "%s decided by FCALL", node.Addr())
	}
}

// TestSuitesSentinel: the suites through a Sentinel group's master, over FCALL.
func TestSuitesSentinel(t *testing.T) {
	t.Parallel()
	sg := redistest.StartSentinel(t)
	cfg := redisConfig(config.RedisSentinel, false, sg.SentinelAddrs()...)
	cfg.Redis.MasterName = sg.MasterName()
	t.Run("suites", func(t *testing.T) { suites(t, cfg) })
	assert.Positive(t, commandStats(t, sg.Master().Client())["fcall"], "decided by FCALL")
}

// TestSuitesWithoutFunctions: the suites on a server without Redis Functions (as Redis
// before 7.0: FCALL and FUNCTION are unknown commands), where the store falls back to
// the scripts, EVALSHA.
func TestSuitesWithoutFunctions(t *testing.T) {
	t.Parallel()
	srv := startWithoutFunctions(t)
	t.Run("suites", func(t *testing.T) { suites(t, redisConfig(config.RedisStandalone, false, srv.Addr())) })
	assert.Positive(t, commandStats(t, srv.Client())["evalsha"], "decided by EVALSHA")
}
