package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failFast is a client that reports a dead server at once: no command
// retries, a single dial.
func failFast(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:          addr,
		MaxRetries:    -1,
		DialerRetries: 1,
		DialTimeout:   500 * time.Millisecond,
	})
}

func TestServerKillRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	began := time.Now()
	s := StartServer(t)
	t.Logf("standalone server up on %s in %v", s.Addr(), time.Since(began).Round(time.Millisecond))
	require.True(t, s.Running())

	c := s.Client()
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	got, err := c.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got)

	addr := s.Addr()
	s.Kill()
	assert.False(t, s.Running())
	s.Kill() // a second Kill is harmless

	ff := failFast(addr)
	defer ff.Close()
	assert.Error(t, ff.Ping(ctx).Err(), "PING must fail while the server is down")
	assert.Error(t, ff.Set(ctx, "k", "v2", 0).Err(), "SET must fail while the server is down")

	began = time.Now()
	s.Restart()
	t.Logf("restarted in %v", time.Since(began).Round(time.Millisecond))
	assert.Equal(t, addr, s.Addr(), "Restart keeps the address")
	assert.True(t, s.Running())

	// The convenience client survives the restart; the dataset does not
	// (no persistence).
	require.NoError(t, c.Ping(ctx).Err())
	assert.ErrorIs(t, c.Get(ctx, "k").Err(), redis.Nil)
	require.NoError(t, ff.Ping(ctx).Err())
}

func TestServerRetriesBusyPort(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	s := StartServer(t, withPorts(busyPort))
	assert.NotEqual(t, busyPort, s.Port(), "the busy port must have been given up")
	assert.Contains(t, s.LogTail(), "Address already in use", "the first attempt hit the busy port")
	require.NoError(t, s.Client().Ping(context.Background()).Err())
}

func TestServerPortTakenByAnotherRedis(t *testing.T) {
	t.Parallel()
	other := StartServer(t)

	// The new server loses the race for the port to a redis that answers
	// PONG: it must notice that the PONG is not its own and move on.
	s := StartServer(t, withPorts(other.Port()))
	assert.NotEqual(t, other.Port(), s.Port())
	assert.Contains(t, s.LogTail(), "Address already in use")
	assert.True(t, other.Running())
	assert.True(t, s.Running())
}

func TestServerArgs(t *testing.T) {
	t.Parallel()
	s := StartServer(t, WithArgs("--maxmemory", "12mb"))
	got, err := s.Client().ConfigGet(context.Background(), "maxmemory").Result()
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(12<<20), got["maxmemory"])
}

func TestMissingBinaryMessage(t *testing.T) {
	t.Parallel()
	_, err := lookBinary("redis-server-not-installed")
	require.Error(t, err)
	assert.Equal(t,
		"redis-server-not-installed not found: run `bash scripts/install-redis.sh` (make test does it)",
		err.Error())
}

func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	began := time.Now()
	s := StartSentinel(t)
	t.Logf("sentinel group (master %s, replica %s, sentinels %v) settled in %v",
		s.Master().Addr(), s.Replica().Addr(), s.SentinelAddrs(), time.Since(began).Round(time.Millisecond))
	assert.Equal(t, "mymaster", s.MasterName())
	require.Len(t, s.SentinelAddrs(), 3)
	require.Len(t, s.Sentinels(), 3)

	// Write through the failover client, and make sure the replica has it
	// before the master dies.
	require.NoError(t, s.Client().Set(ctx, "before", "failover", 0).Err())
	acked, err := s.Master().Client().Wait(ctx, 1, 5000).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, acked, "the replica acknowledged the write")

	old := s.Master().Addr()
	s.Master().Kill()
	began = time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	newMaster, err := s.WaitForFailover(waitCtx, old)
	require.NoError(t, err)
	failover := time.Since(began)
	t.Logf("failover: %s -> %s in %v", old, newMaster, failover.Round(time.Millisecond))
	assert.Equal(t, s.Replica().Addr(), newMaster, "the replica is promoted")

	// A client asking the sentinels now reaches the new master, which has the
	// data and takes writes.
	fc := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    s.MasterName(),
		SentinelAddrs: s.SentinelAddrs(),
	})
	defer fc.Close()
	got, err := fc.Get(ctx, "before").Result()
	require.NoError(t, err)
	assert.Equal(t, "failover", got)
	require.NoError(t, fc.Set(ctx, "after", "failover", 0).Err())

	// The old master, restarted, is turned into a replica of the new one.
	began = time.Now()
	s.Master().Restart()
	rejoinCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = waitUntil(rejoinCtx, 50*time.Millisecond, func(ctx context.Context) error {
		reply, err := do(ctx, old, "ROLE")
		if err != nil {
			return err
		}
		role, _ := reply.([]any)
		if len(role) < 3 || role[0] != "slave" || fmt.Sprintf("127.0.0.1:%v", role[2]) != newMaster {
			return fmt.Errorf("ROLE %v", reply)
		}
		return nil
	})
	require.NoError(t, err, "the sentinels reconfigure the restarted old master")
	t.Logf("old master rejoined as a replica in %v", time.Since(began).Round(time.Millisecond))
}

func TestCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	began := time.Now()
	c := StartCluster(t)
	t.Logf("cluster %v formed in %v", c.Addrs(), time.Since(began).Round(time.Millisecond))
	require.Len(t, c.Addrs(), 3)
	require.Len(t, c.Nodes(), 3)

	cc := c.Client()
	const n = 300
	for i := range n {
		require.NoError(t, cc.Set(ctx, fmt.Sprintf("key:%d", i), i, 0).Err())
	}
	for i := range n {
		got, err := cc.Get(ctx, fmt.Sprintf("key:%d", i)).Int()
		require.NoError(t, err)
		require.Equal(t, i, got)
	}

	// The keys landed on every master, not just one.
	var masters, total atomic.Int64
	require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		size, err := m.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		masters.Add(1)
		total.Add(size)
		if size == 0 {
			return fmt.Errorf("master %s holds no keys", m.Options().Addr)
		}
		return nil
	}))
	assert.EqualValues(t, 3, masters.Load())
	assert.EqualValues(t, n, total.Load())

	// A killed node, restarted, rejoins (it reads its nodes.conf back).
	node := c.Nodes()[0]
	node.Kill()
	began = time.Now()
	node.Restart()
	require.NoError(t, c.WaitHealthy(ctx))
	t.Logf("node %s restarted and cluster healthy again in %v", node.Addr(), time.Since(began).Round(time.Millisecond))
}

// TestClusterWithReplicas: WithReplicas gives every master its replicas, MasterFor names
// the master of a key's slot, and WaitFailover the replica that took a dead master's slots
// over.
func TestClusterWithReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := StartCluster(t, WithReplicas(1), WithNodeTimeout(time.Second))
	require.Len(t, c.Nodes(), 6)

	master, err := c.MasterFor(ctx, "user:42")
	require.NoError(t, err)
	info, err := master.Client().Info(ctx, "replication").Result()
	require.NoError(t, err)
	require.Equal(t, "master", infoField(info, "role"))
	require.Equal(t, "1", infoField(info, "connected_slaves"))
	// WaitReplicated waits for the replica to have every write, from any connection: with
	// the replica stopped it times out (WAIT on a connection that wrote nothing would
	// return at once), and once the replica resumes it returns.
	replica := replicaOf(t, c, master, info)
	replicaPID := processID(t, replica)
	require.NoError(t, syscall.Kill(replicaPID, syscall.SIGSTOP))
	t.Cleanup(func() { _ = syscall.Kill(replicaPID, syscall.SIGCONT) })
	require.NoError(t, c.Client().Set(ctx, "user:42", "ada", 0).Err())
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	require.Error(t, master.WaitReplicated(short, 1), "the replica is stopped")
	require.NoError(t, syscall.Kill(replicaPID, syscall.SIGCONT))
	require.NoError(t, master.WaitReplicated(ctx, 1))

	master.Kill()
	promoted, err := c.WaitFailover(ctx, "user:42", master)
	require.NoError(t, err)
	got, err := promoted.Client().Get(ctx, "user:42").Result()
	require.NoError(t, err)
	require.Equal(t, "ada", got, "the promoted replica holds what the master had")
}

// replicaOf returns the node of c that replicates master, whose INFO replication is info.
func replicaOf(t *testing.T, c *Cluster, master *Server, info string) *Server {
	t.Helper()
	for _, r := range infoReplicas(info) {
		for _, n := range c.Nodes() {
			if strconv.Itoa(n.Port()) == r["port"] && n != master {
				return n
			}
		}
	}
	t.Fatalf("no node of the cluster replicates %s: %q", master.Addr(), info)
	return nil
}

// processID returns the pid of the server's process.
func processID(t *testing.T, s *Server) int {
	t.Helper()
	info, err := s.Client().Info(context.Background(), "server").Result()
	require.NoError(t, err)
	pid, err := strconv.Atoi(infoField(info, "process_id"))
	require.NoError(t, err)
	return pid
}
