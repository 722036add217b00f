// Package redistest starts real Redis processes for tests: a standalone
// redis-server ([StartServer]), a Sentinel group of a master, a replica and
// three sentinels ([StartSentinel]), and a Cluster of three masters
// ([StartCluster]). Every process listens on a free loopback port, keeps its
// files in a directory of its own under the test's temporary directory, and is
// killed when the test ends. Nothing here uses a fixed port, so tests that start
// servers may run in parallel, and several test binaries may run at once.
//
// The binaries come from PATH: redis-server, redis-sentinel and redis-cli.
// scripts/install-redis.sh installs them (make test runs it). A missing binary
// fails the test with that hint; the tests are never skipped.
//
// Every wait in this package polls a condition (PING answered, replica synced,
// sentinels agreeing, cluster_state:ok) until a deadline, 20 seconds unless
// [WithTimeout] says otherwise, and fails the test with what it last saw.
//
// StartServer, StartSentinel, StartCluster and the Restart methods call
// t.Fatal, so they must be called from the goroutine running the test.
//
//	func TestStore(t *testing.T) {
//		srv := redistest.StartServer(t)
//		store, err := redisstore.New(config.Config{Backend: config.BackendRedis,
//			Redis: config.RedisConfig{Addrs: []string{srv.Addr()}}})
//		…
//		srv.Kill() // Redis is down: the store's fail_mode applies
//		…
//	}
//
// [StartMain] starts a server from TestMain, for Example functions, which have no test.
package redistest
