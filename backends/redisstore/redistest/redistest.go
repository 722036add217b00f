package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Option changes how a topology is started. Options are applied in order; a
// later one wins.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	args            []string
	timeout         time.Duration
	masterName      string
	downAfter       time.Duration
	failoverTimeout time.Duration
	nodeTimeout     time.Duration
	replicas        int // per cluster master

	// ports are tried first, unchecked, before free ports are searched for.
	// Only the package's own tests set it, to provoke "Address already in use".
	ports []int
}

func newConfig(opts []Option) *config {
	c := &config{
		timeout:         20 * time.Second,
		masterName:      "mymaster",
		downAfter:       time.Second,
		failoverTimeout: 2 * time.Second,
		nodeTimeout:     5 * time.Second,
	}
	for _, o := range opts {
		o.apply(c)
	}
	return c
}

// WithArgs appends command-line arguments to every redis-server the topology
// starts (not to the sentinels), for example WithArgs("--maxmemory", "64mb").
func WithArgs(args ...string) Option {
	return optionFunc(func(c *config) { c.args = append(c.args, args...) })
}

// WithTimeout bounds each wait the harness does: one process answering PING,
// the replica syncing, the sentinels discovering each other, the cluster
// forming, and WaitForFailover when its context has no deadline. The default is
// 20 seconds, generous for a loaded 2-core machine; d <= 0 keeps the default.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithMasterName sets the name the sentinels monitor the master under. The
// default is "mymaster".
func WithMasterName(name string) Option {
	return optionFunc(func(c *config) {
		if name != "" {
			c.masterName = name
		}
	})
}

// WithDownAfter sets the sentinels' down-after-milliseconds: how long an
// instance may leave a PING unanswered before it is considered down. The
// default is 1s: a killed master is replaced in about 2–3s, and a machine that
// stalls for a moment (a loaded CI host freezes every process at once) puts
// the sentinels in TILT mode instead of starting a failover no test asked for
// (see StartSentinel). Below about 500ms such stalls can cause failovers.
func WithDownAfter(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.downAfter = d
		}
	})
}

// WithFailoverTimeout sets the sentinels' failover-timeout. The default is 2s.
func WithFailoverTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.failoverTimeout = d
		}
	})
}

// WithNodeTimeout sets the cluster nodes' cluster-node-timeout: how long a node
// may stay unreachable before the others mark it failing. The default is 5s, so
// that a machine stall of a few seconds does not take the cluster down; a test
// that wants a dead node marked FAIL (and cluster_state:fail) sooner lowers it.
// A master marked FAIL is cleared 2×timeout after it was marked, once it is
// back.
func WithNodeTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.nodeTimeout = d
		}
	})
}

// WithReplicas gives each of a cluster's three masters n replicas (default 0), so that a
// test can kill a master and watch a replica take its slots over (failover happens after
// the node timeout, see [WithNodeTimeout]).
func WithReplicas(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.replicas = n
		}
	})
}

// withPorts makes the next starts try these ports first, without checking
// that they are free.
func withPorts(ports ...int) Option {
	return optionFunc(func(c *config) { c.ports = append(c.ports, ports...) })
}

// Server is one redis-server (or redis-sentinel) process on a loopback port,
// started for a test by [StartServer], [StartSentinel] or [StartCluster].
//
// The zero value is not usable. Addr, Kill and Client are safe for concurrent
// use; Restart calls t.Fatal and so belongs to the test's goroutine. The
// process is killed, and its directory removed, when the test ends.
type Server struct {
	tb      testing.TB
	label   string // "redis-server", "sentinel 2", "cluster node 1"…: names it in messages
	bin     string // absolute path of the binary
	dir     string
	logPath string
	timeout time.Duration
	onStart func(context.Context, *Server) error

	// Fixed once the first start succeeded.
	port int
	args []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited and been reaped
	client *redis.Client
}

// spec says how to start one process.
type spec struct {
	label string
	bin   string // name on PATH
	bus   bool   // the process also listens on port+10000 (Cluster bus)
	// args builds the command line for a port and the process's directory.
	args func(port int, dir string) ([]string, error)
	// onStart, if set, runs after every start once PING is answered (to apply
	// settings a config file cannot hold).
	onStart func(context.Context, *Server) error
}

const maxStartAttempts = 5

// StartServer starts a standalone redis-server on a free loopback port and
// waits until it answers PING. It fails the test if the server cannot be
// started. The server runs with --save "" --appendonly no, so a Restart
// starts with an empty dataset. The test's cleanup kills it and removes its
// directory.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := newConfig(opts)
	return startServer(t, cfg, "redis-server", false, nil)
}

// startServer starts a data node (standalone, Sentinel master or replica,
// cluster node) with the common arguments, cfg.args and extra. A cluster node
// (bus) needs port+10000 free too.
func startServer(t testing.TB, cfg *config, label string, bus bool, extra []string) *Server {
	t.Helper()
	return start(t, cfg, spec{
		label: label,
		bin:   "redis-server",
		bus:   bus,
		args: func(port int, dir string) ([]string, error) {
			args := []string{
				"--port", strconv.Itoa(port),
				"--bind", "127.0.0.1",
				"--save", "",
				"--appendonly", "no",
				"--dir", dir,
				"--daemonize", "no",
				"--protected-mode", "no",
				"--logfile", "",
				// A replica's first sync would wait 5s for more replicas.
				"--repl-diskless-sync-delay", "0",
			}
			args = append(args, extra...)
			return append(args, cfg.args...), nil
		},
	})
}

// start looks the binary up, picks a port, launches the process and waits for
// PING, trying other ports while the process reports "Address already in use".
func start(t testing.TB, cfg *config, sp spec) *Server {
	t.Helper()
	bin, err := lookBinary(sp.bin)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		tb:      t,
		label:   sp.label,
		bin:     bin,
		dir:     t.TempDir(), // removed by a cleanup that runs after ours: the process is dead by then
		timeout: cfg.timeout,
		onStart: sp.onStart,
	}
	s.logPath = s.dir + string(os.PathSeparator) + "redis.log"
	t.Cleanup(s.cleanup)

	var lastErr error
	for attempt := 1; attempt <= maxStartAttempts; attempt++ {
		port, err := cfg.pickPort(sp.bus)
		if err != nil {
			t.Fatalf("redistest: %s: %v", sp.label, err)
		}
		args, err := sp.args(port, s.dir)
		if err != nil {
			t.Fatalf("redistest: %s: %v", sp.label, err)
		}
		s.port, s.args = port, args
		lastErr = s.launch()
		if lastErr == nil {
			return s
		}
		if !errors.Is(lastErr, errAddrInUse) {
			break
		}
	}
	t.Fatalf("redistest: %s did not start: %v", sp.label, lastErr)
	return nil
}

var errAddrInUse = errors.New("address already in use")

// launch starts the process with s.args and waits until it answers PING. On
// failure the process is dead and the error carries the tail of its log.
func (s *Server) launch() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy of the descriptor
	offset, err := logf.Seek(0, 2)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "--- redistest %s: %s %s\n", time.Now().Format(time.RFC3339Nano), s.bin, quoteArgs(s.args))

	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := startProcess(cmd); err != nil {
		return fmt.Errorf("exec %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	err = waitReady(ctx, s.Addr(), cmd.Process.Pid, done)
	if err == nil && s.onStart != nil {
		err = s.onStart(ctx, s)
	}
	if err == nil {
		return nil
	}
	s.Kill()
	tail := logTail(s.logPath, offset)
	if strings.Contains(tail, "Address already in use") {
		err = fmt.Errorf("%w: %w", errAddrInUse, err)
	}
	return fmt.Errorf("%s on %s: %w\n--- log %s (tail) ---\n%s", s.label, s.Addr(), err, s.logPath, tail)
}

// waitReady polls until the process answers PING, the process exits, or ctx
// ends. The answer must come from our process (INFO's process_id): when two
// test binaries pick the same port at once, the loser must not mistake the
// winner's PONG for its own.
func waitReady(ctx context.Context, addr string, pid int, exited <-chan struct{}) error {
	// Something else may hold the port and accept without answering: stop
	// waiting for its reply as soon as our process is gone.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		if hasExited(exited) {
			return errExitedBeforePing
		}
		last := answersPing(ctx, addr, pid)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			// The exit cancels ctx too: when both are ready, select may
			// pick either, and the exit is the cause worth reporting.
			if hasExited(exited) {
				return errExitedBeforePing
			}
			return fmt.Errorf("not ready before the deadline: %w", last)
		case <-exited:
		case <-time.After(pollInterval):
		}
	}
}

var errExitedBeforePing = errors.New("process exited before answering PING")

func hasExited(exited <-chan struct{}) bool {
	select {
	case <-exited:
		return true
	default:
		return false
	}
}

func answersPing(ctx context.Context, addr string, pid int) error {
	reply, err := do(ctx, addr, "PING")
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("PING answered %v", reply)
	}
	info, err := doString(ctx, addr, "INFO", "server")
	if err != nil {
		return err
	}
	if got := infoField(info, "process_id"); got != strconv.Itoa(pid) {
		return fmt.Errorf("%s is answered by process %s, not ours (%d)", addr, got, pid)
	}
	return nil
}

const pollInterval = 20 * time.Millisecond

// Addr returns the server's address, "127.0.0.1:port". It stays the same
// across Kill and Restart.
func (s *Server) Addr() string {
	return "127.0.0.1:" + strconv.Itoa(s.port)
}

// Port returns the server's TCP port.
func (s *Server) Port() int { return s.port }

// Dir returns the server's working directory, which holds its log (redis.log)
// and, for sentinels and cluster nodes, the config files they rewrite.
func (s *Server) Dir() string { return s.dir }

// Kill sends SIGKILL to the process and waits until it has exited, as a crash
// would end it: no shutdown, no save. Killing a server that is not running does
// nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill() // os.ErrProcessDone when it already exited
	<-done
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Restart starts a fresh process on the same port with the same directory and
// command line (a sentinel or cluster node reads back the config it rewrote),
// and waits until it answers PING. A server still running is killed first. It
// fails the test if the process does not come up.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	var err error
	for attempt := 1; attempt <= maxStartAttempts; attempt++ {
		if err = s.launch(); err == nil {
			return
		}
		if !errors.Is(err, errAddrInUse) {
			break
		}
		// Another process holds the port: it may be gone in a moment.
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("redistest: restarting %s: %v", s.label, err)
}

// Client returns a go-redis client for this server with go-redis defaults,
// created on first use and closed when the test ends. It survives Kill and
// Restart: the pool dials again.
func (s *Server) Client() *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = redis.NewClient(&redis.Options{Addr: s.Addr()})
	}
	return s.client
}

// WaitReplicated waits until replicas of the server's replicas have acknowledged every
// write it took before the call, from any connection, and returns an error naming the
// offsets when they have not by ctx's end (or the harness timeout, see [WithTimeout]).
// The WAIT command is no such wait: it counts the acknowledgements of the writes of its own
// connection only, so WAIT on a connection that wrote nothing returns at once, whatever
// the replicas have. Replicas report their offset about once a second.
func (s *Server) WaitReplicated(ctx context.Context, replicas int) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	info, err := s.Client().Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("redistest: %s: %w", s.label, err)
	}
	target, err := strconv.ParseInt(infoField(info, "master_repl_offset"), 10, 64)
	if err != nil {
		return fmt.Errorf("redistest: %s: master_repl_offset: %w", s.label, err)
	}
	return waitUntil(ctx, 20*time.Millisecond, func(ctx context.Context) error {
		info, err := s.Client().Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		acked := 0
		for _, r := range infoReplicas(info) {
			if off, err := strconv.ParseInt(r["offset"], 10, 64); err == nil && off >= target {
				acked++
			}
		}
		if acked < replicas {
			return fmt.Errorf("redistest: %s: %d of %d replicas at offset %d: %s", s.label, acked, replicas, target, info)
		}
		return nil
	})
}

// LogTail returns the last lines of the server's log, across restarts.
func (s *Server) LogTail() string {
	return logTail(s.logPath, 0)
}

func (s *Server) cleanup() {
	s.mu.Lock()
	client := s.client
	s.client = nil
	s.mu.Unlock()
	if client != nil {
		_ = client.Close()
	}
	s.Kill()
	if s.tb.Failed() {
		s.tb.Logf("redistest: %s on %s, log tail:\n%s", s.label, s.Addr(), s.LogTail())
	}
}

// lookBinary finds name on PATH, or says how to install it.
func lookBinary(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: run `bash scripts/install-redis.sh` (make test does it)", name)
	}
	return path, nil
}

const tailBytes = 4 << 10

// logTail returns up to the last 4 KiB of the file after offset, starting at a
// line boundary.
func logTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if offset > int64(len(b)) {
		offset = 0
	}
	b = b[offset:]
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	if len(b) == 0 {
		return "(empty)"
	}
	return strings.TrimRight(string(b), "\n")
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
