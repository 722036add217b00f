package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fatalRecorder is a testing.TB whose Fatal and Fatalf record the message and
// end only the goroutine they run in, so that a test can check how the harness
// fails. Everything else (TempDir, Cleanup, Logf…) is the real test's.
type fatalRecorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatal(args ...any) {
	r.record(fmt.Sprint(args...))
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
}

func (r *fatalRecorder) record(msg string) {
	r.mu.Lock()
	r.msg = msg
	r.mu.Unlock()
	runtime.Goexit()
}

// fatalOf runs f with a fatalRecorder on a goroutine of its own and returns
// the message f failed with, or "" when it returned normally.
func fatalOf(t *testing.T, f func(tb testing.TB)) string {
	t.Helper()
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg
}

func TestOptions(t *testing.T) {
	t.Parallel()
	def := newConfig(nil)
	assert.Equal(t, 20*time.Second, def.timeout)
	assert.Equal(t, "mymaster", def.masterName)
	assert.Equal(t, time.Second, def.downAfter)
	assert.Equal(t, 2*time.Second, def.failoverTimeout)
	assert.Equal(t, 5*time.Second, def.nodeTimeout)

	set := newConfig([]Option{WithTimeout(3 * time.Second), WithMasterName("orders"),
		WithDownAfter(700 * time.Millisecond), WithFailoverTimeout(4 * time.Second),
		WithNodeTimeout(6 * time.Second), WithArgs("--a", "1"), WithArgs("--b")})
	assert.Equal(t, 3*time.Second, set.timeout)
	assert.Equal(t, "orders", set.masterName)
	assert.Equal(t, 700*time.Millisecond, set.downAfter)
	assert.Equal(t, 4*time.Second, set.failoverTimeout)
	assert.Equal(t, 6*time.Second, set.nodeTimeout)
	assert.Equal(t, []string{"--a", "1", "--b"}, set.args, "WithArgs appends")

	// Zero and negative values, and an empty name, keep the defaults.
	kept := newConfig([]Option{WithTimeout(0), WithMasterName(""), WithDownAfter(-time.Second),
		WithFailoverTimeout(0), WithNodeTimeout(-1)})
	assert.Equal(t, def, kept)

	// A later option wins.
	later := newConfig([]Option{WithTimeout(3 * time.Second), WithTimeout(4 * time.Second)})
	assert.Equal(t, 4*time.Second, later.timeout)
}

func TestStartFailureReportsTheLog(t *testing.T) {
	t.Parallel()
	msg := fatalOf(t, func(tb testing.TB) {
		StartServer(tb, WithArgs("--no-such-directive", "1"))
	})
	assert.Contains(t, msg, "redistest: redis-server did not start: redis-server on 127.0.0.1:")
	assert.Contains(t, msg, "process exited before answering PING")
	assert.Contains(t, msg, "no-such-directive", "the log tail shows redis-server's complaint")
	assert.Contains(t, msg, "Bad directive")
}

func TestStartMissingBinary(t *testing.T) {
	t.Parallel()
	msg := fatalOf(t, func(tb testing.TB) {
		start(tb, newConfig(nil), spec{label: "x", bin: "redis-server-not-installed"})
	})
	assert.Equal(t,
		"redis-server-not-installed not found: run `bash scripts/install-redis.sh` (make test does it)", msg)
}

func TestRestartFailureFailsTheTest(t *testing.T) {
	t.Parallel()
	msg := fatalOf(t, func(tb testing.TB) {
		s := StartServer(tb)
		assert.FileExists(t, filepath.Join(s.Dir(), "redis.log"), "the log lives in Dir")
		assert.Contains(t, s.LogTail(), "--- redistest ", "the harness logs each command line")
		s.Kill()
		// Without its directory the server cannot open its log again.
		assert.NoError(t, os.RemoveAll(s.Dir()))
		s.Restart()
	})
	assert.Contains(t, msg, "redistest: restarting redis-server: ")
	assert.Contains(t, msg, "no such file or directory")
}

func TestLogTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "redis.log")

	assert.Contains(t, logTail(path, 0), "(cannot read log: ")

	require.NoError(t, os.WriteFile(path, nil, 0o600))
	assert.Equal(t, "(empty)", logTail(path, 0))

	require.NoError(t, os.WriteFile(path, []byte("first\nsecond\n"), 0o600))
	assert.Equal(t, "second", logTail(path, int64(len("first\n"))), "only what follows the offset")
	assert.Equal(t, "first\nsecond", logTail(path, 1000), "an offset past the end (a truncated log) reads all")

	// A long log is cut to its last 4 KiB, at a line boundary.
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "line %04d\n", i)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	tail := logTail(path, 0)
	assert.LessOrEqual(t, len(tail), tailBytes)
	assert.True(t, strings.HasPrefix(tail, "line "), "starts at a whole line: %q", tail[:20])
	assert.True(t, strings.HasSuffix(tail, "line 0999"))
}

func TestQuoteArgs(t *testing.T) {
	t.Parallel()
	assert.Equal(t, `--save "" --dir "/a b" --x "it's"`,
		quoteArgs([]string{"--save", "", "--dir", "/a b", "--x", "it's"}))
}

// TestSentinelOptions checks that the options reach the sentinels' config, and
// that WaitForFailover reports the sentinels' view when no failover happens.
func TestSentinelOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := StartSentinel(t, WithMasterName("orders"), WithDownAfter(1500*time.Millisecond),
		WithFailoverTimeout(7*time.Second))
	assert.Equal(t, "orders", s.MasterName())
	for _, sn := range s.Sentinels() {
		m, err := doMap(ctx, sn.Addr(), "SENTINEL", "MASTER", "orders")
		require.NoError(t, err)
		assert.Equal(t, "1500", m["down-after-milliseconds"])
		assert.Equal(t, "7000", m["failover-timeout"])
		assert.FileExists(t, filepath.Join(sn.Dir(), "sentinel.conf"))
	}
	require.NoError(t, s.Client().Set(ctx, "k", "v", 0).Err(), "the failover client uses the master name")

	// No failover happened: a wait that has already run out says what each
	// sentinel answered.
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.WaitForFailover(done, s.Master().Addr())
	require.ErrorContains(t, err, "redistest: no failover away from "+s.Master().Addr())
	require.ErrorIs(t, err, context.Canceled)
}

// TestClusterOptions checks WithNodeTimeout, and what the health check says
// while a node is down.
func TestClusterOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := StartCluster(t, WithNodeTimeout(4*time.Second))
	for _, n := range c.Nodes() {
		got, err := n.Client().ConfigGet(ctx, "cluster-node-timeout").Result()
		require.NoError(t, err)
		assert.Equal(t, "4000", got["cluster-node-timeout"])
		assert.FileExists(t, filepath.Join(n.Dir(), "nodes.conf"))
	}

	down := c.Nodes()[1]
	down.Kill()
	err := c.healthy(ctx)
	require.ErrorContains(t, err, down.Addr()+": CLUSTER INFO: ")
	require.ErrorContains(t, err, "connection refused")
	done, cancel := context.WithCancel(ctx)
	cancel()
	err = c.WaitHealthy(done)
	require.ErrorContains(t, err, "not healthy")
	require.ErrorIs(t, err, context.Canceled)
	down.Restart()
	require.NoError(t, c.WaitHealthy(ctx))
}

func TestCheckSlots(t *testing.T) {
	t.Parallel()
	ours := []string{"127.0.0.1:7001", "127.0.0.1:7002"}
	master := func(port int64) []any { return []any{"127.0.0.1", port, "node-id"} }
	entry := func(start, end, port int64) []any { return []any{start, end, master(port)} }
	tests := []struct {
		name    string
		reply   any
		wantErr string
	}{
		{name: "covered", reply: []any{entry(8192, 16383, 7002), entry(0, 8191, 7001)}},
		{name: "not an array", reply: "ERR", wantErr: "unexpected reply ERR"},
		{name: "entry not an array", reply: []any{int64(1)}, wantErr: "unexpected entry 1"},
		{name: "entry too short", reply: []any{[]any{int64(0), int64(16383)}}, wantErr: "unexpected entry"},
		{name: "start not a number", reply: []any{[]any{"0", int64(16383), master(7001)}}, wantErr: "unexpected entry"},
		{name: "end not a number", reply: []any{[]any{int64(0), "16383", master(7001)}}, wantErr: "unexpected entry"},
		{name: "master not an array", reply: []any{[]any{int64(0), int64(16383), "x"}}, wantErr: "unexpected entry"},
		{name: "master without port", reply: []any{[]any{int64(0), int64(16383), []any{"127.0.0.1"}}}, wantErr: "unexpected entry"},
		{name: "foreign master", reply: []any{entry(0, 16383, 7009)},
			wantErr: "slots 0-16383 served by 127.0.0.1:7009, not one of ours"},
		{name: "gap", reply: []any{entry(0, 100, 7001), entry(102, 16383, 7002)},
			wantErr: "slot 101 not covered (or covered twice)"},
		{name: "overlap", reply: []any{entry(0, 100, 7001), entry(100, 16383, 7002)},
			wantErr: "slot 101 not covered (or covered twice)"},
		{name: "end missing", reply: []any{entry(0, 16000, 7001)}, wantErr: "slots 16001-16383 not covered"},
		{name: "nothing served", reply: []any{}, wantErr: "slots 0-16383 not covered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkSlots(tt.reply, ours)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestReplicaHealthy(t *testing.T) {
	t.Parallel()
	s := &Sentinel{replica: &Server{port: 7002}}
	replica := func(flags, link string) map[string]string {
		return map[string]string{"ip": "127.0.0.1", "port": "7002", "flags": flags, "master-link-status": link}
	}
	other := map[string]string{"ip": "127.0.0.1", "port": "7003", "flags": "slave", "master-link-status": "ok"}
	tests := []struct {
		name    string
		reps    []map[string]string
		wantErr string
	}{
		{name: "healthy", reps: []map[string]string{other, replica("slave", "ok")}},
		{name: "not listed", reps: []map[string]string{other}, wantErr: "replica 127.0.0.1:7002 not known yet (1 replicas listed)"},
		{name: "not a slave", reps: []map[string]string{replica("master", "ok")}, wantErr: `flags "master"`},
		{name: "subjectively down", reps: []map[string]string{replica("slave,s_down", "ok")}, wantErr: `flags "slave,s_down"`},
		{name: "objectively down", reps: []map[string]string{replica("slave,o_down", "ok")}, wantErr: `flags "slave,o_down"`},
		{name: "disconnected", reps: []map[string]string{replica("slave,disconnected", "ok")}, wantErr: `flags "slave,disconnected"`},
		{name: "link down", reps: []map[string]string{replica("slave", "err")}, wantErr: `master-link-status "err"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.replicaHealthy(tt.reps)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestAnExitDuringPingIsReportedAsTheExit holds the PING of a process that
// exits while it is being asked: the exit also cancels the wait's context, and
// the report must name the exit, not a cancelled dial. The listener closes
// exited as it accepts, so every round races the two the same way.
func TestAnExitDuringPingIsReportedAsTheExit(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	const rounds = 64
	exits := make(chan chan struct{})
	held := make(chan net.Conn, rounds) // accepted, never answered
	t.Cleanup(func() {
		close(held)
		for conn := range held {
			_ = conn.Close()
		}
	})
	go func() {
		for range rounds {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			held <- conn
			close(<-exits)
		}
	}()
	for i := range rounds {
		exited := make(chan struct{})
		errc := make(chan error, 1)
		go func() { errc <- waitReady(context.Background(), ln.Addr().String(), 1, exited) }()
		exits <- exited
		require.ErrorContains(t, <-errc, "process exited before answering PING", "round %d", i)
	}
}
