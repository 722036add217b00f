package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	clusterMasters = 3
	clusterSlots   = 16384
)

// Cluster is a Redis Cluster of three masters, with no replicas unless [WithReplicas]
// gives them some, started for a test by [StartCluster]. Each node is a redis-server with cluster-enabled yes
// and cluster-node-timeout 5000 (see [WithNodeTimeout]); its bus listens on
// port+10000. A restarted node reads its nodes.conf back and rejoins.
//
// The zero value is not usable. The methods are safe for concurrent use. All
// nodes are killed when the test ends.
type Cluster struct {
	tb    testing.TB
	cfg   *config
	nodes []*Server

	mu     sync.Mutex
	client *redis.ClusterClient
}

// StartCluster starts three cluster nodes (and their replicas, see [WithReplicas]),
// joins them with `redis-cli --cluster create … --cluster-replicas n --cluster-yes`,
// and returns once every node reports cluster_state:ok, knows every node and has
// all 16384 slots covered by them (and, with replicas, every master has its
// replicas). It fails the test if that state is not
// reached within the timeout (see [WithTimeout]).
func StartCluster(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	cfg := newConfig(opts)
	cli, err := lookBinary("redis-cli")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{tb: t, cfg: cfg}
	extra := []string{
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf", // relative to --dir
		"--cluster-node-timeout", strconv.FormatInt(cfg.nodeTimeout.Milliseconds(), 10),
	}
	for i := 1; i <= clusterMasters*(1+cfg.replicas); i++ {
		c.nodes = append(c.nodes, startServer(t, cfg, fmt.Sprintf("cluster node %d", i), true, extra))
	}

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(cfg.replicas), "--cluster-yes")
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err = startProcess(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		t.Fatalf("redistest: redis-cli %s: %v (%v)\n%s", strings.Join(args, " "), err, ctx.Err(), out.String())
	}

	ctx, cancel = context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(c.closeClient) // runs before the nodes are killed
	return c
}

// Addrs returns the nodes' addresses, for go-redis's ClusterOptions.Addrs.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Nodes returns the nodes, masters and replicas, for tests that kill and restart them.
func (c *Cluster) Nodes() []*Server { return slices.Clone(c.nodes) }

// WaitHealthy polls every node until each reports cluster_state:ok, knows all
// the nodes, and sees all 16384 slots served by them — for example after a
// killed node was restarted. A ctx without a deadline is bounded by the
// harness timeout (see [WithTimeout]). All nodes must be running. When ctx ends
// first, the error says what a node last reported.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	if err := waitUntil(ctx, 50*time.Millisecond, c.healthy); err != nil {
		return fmt.Errorf("cluster %v not healthy: %w", c.Addrs(), err)
	}
	return nil
}

func (c *Cluster) healthy(ctx context.Context) error {
	for _, n := range c.nodes {
		info, err := doString(ctx, n.Addr(), "CLUSTER", "INFO")
		if err != nil {
			return fmt.Errorf("%s: CLUSTER INFO: %w", n.Addr(), err)
		}
		for field, want := range map[string]string{
			"cluster_state":       "ok",
			"cluster_slots_ok":    strconv.Itoa(clusterSlots),
			"cluster_known_nodes": strconv.Itoa(len(c.nodes)),
			"cluster_size":        strconv.Itoa(clusterMasters),
		} {
			if got := infoField(info, field); got != want {
				return fmt.Errorf("%s: %s:%s, want %s", n.Addr(), field, got, want)
			}
		}
		if err := c.slotsCovered(ctx, n.Addr()); err != nil {
			return fmt.Errorf("%s: CLUSTER SLOTS: %w", n.Addr(), err)
		}
		if c.cfg.replicas > 0 {
			info, err := doString(ctx, n.Addr(), "INFO", "replication")
			if err != nil {
				return fmt.Errorf("%s: INFO replication: %w", n.Addr(), err)
			}
			if infoField(info, "role") == "master" && infoField(info, "connected_slaves") != strconv.Itoa(c.cfg.replicas) {
				return fmt.Errorf("%s: connected_slaves:%s, want %d", n.Addr(), infoField(info, "connected_slaves"), c.cfg.replicas)
			}
		}
	}
	return nil
}

// WaitFailover waits until the running nodes name another node than old as the master of
// key's slot — a replica that took a dead or frozen master's slots over — and returns it.
// A ctx without a deadline is bounded by the harness timeout (see [WithTimeout]).
func (c *Cluster) WaitFailover(ctx context.Context, key string, old *Server) (*Server, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	var promoted *Server
	err := waitUntil(ctx, 20*time.Millisecond, func(ctx context.Context) error {
		m, err := c.MasterFor(ctx, key)
		switch {
		case err != nil:
			return err
		case m == old:
			return fmt.Errorf("%s still serves %q", old.Addr(), key)
		}
		promoted = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("no replica took %s's slots over: %w", old.Addr(), err)
	}
	return promoted, nil
}

// MasterFor returns the node that serves key's slot as master, as the running nodes' CLUSTER
// SLOTS say: the first running node that answers within nodeAnswer is asked (a frozen node
// accepts connections and never answers). After a master died, it names the replica that
// took its slots over once the others promoted it.
func (c *Cluster) MasterFor(ctx context.Context, key string) (*Server, error) {
	var lastErr error
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		m, err := c.masterFrom(ctx, n, key)
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
	}
	if lastErr == nil {
		return nil, errors.New("no node is running")
	}
	return nil, fmt.Errorf("no running node answered: %w", lastErr)
}

// nodeAnswer is how long MasterFor waits for one node's answer.
const nodeAnswer = 250 * time.Millisecond

// masterFrom asks n which of the nodes serves key's slot as master.
func (c *Cluster) masterFrom(ctx context.Context, n *Server, key string) (*Server, error) {
	ctx, cancel := context.WithTimeout(ctx, nodeAnswer)
	defer cancel()
	reply, err := do(ctx, n.Addr(), "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return nil, err
	}
	slot, ok := reply.(int64)
	if !ok {
		return nil, fmt.Errorf("CLUSTER KEYSLOT %s: unexpected reply %v", key, reply)
	}
	if reply, err = do(ctx, n.Addr(), "CLUSTER", "SLOTS"); err != nil {
		return nil, err
	}
	entries, _ := reply.([]any)
	for _, e := range entries {
		f, _ := e.([]any)
		if len(f) < 3 {
			continue
		}
		start, _ := f[0].(int64)
		end, _ := f[1].(int64)
		master, _ := f[2].([]any)
		if slot < start || slot > end || len(master) < 2 {
			continue
		}
		addr := fmt.Sprintf("%v:%v", master[0], master[1])
		for _, m := range c.nodes {
			if m.Addr() == addr {
				return m, nil
			}
		}
		return nil, fmt.Errorf("slot %d served by %s, not one of ours", slot, addr)
	}
	return nil, fmt.Errorf("slot %d not in %s's CLUSTER SLOTS", slot, n.Addr())
}

// slotsCovered checks that, in the node's CLUSTER SLOTS, the ranges cover
// 0..16383 exactly once and each is served by one of our nodes.
func (c *Cluster) slotsCovered(ctx context.Context, addr string) error {
	reply, err := do(ctx, addr, "CLUSTER", "SLOTS")
	if err != nil {
		return err
	}
	return checkSlots(reply, c.Addrs())
}

// checkSlots checks that a CLUSTER SLOTS reply covers 0..16383 exactly once
// with ranges served by masters at the addresses ours.
func checkSlots(reply any, ours []string) error {
	entries, ok := reply.([]any)
	if !ok {
		return fmt.Errorf("unexpected reply %v", reply)
	}
	type span struct{ start, end int64 }
	var spans []span
	for _, e := range entries {
		f, ok := e.([]any)
		if !ok || len(f) < 3 {
			return fmt.Errorf("unexpected entry %v", e)
		}
		start, ok1 := f[0].(int64)
		end, ok2 := f[1].(int64)
		master, ok3 := f[2].([]any)
		if !ok1 || !ok2 || !ok3 || len(master) < 2 {
			return fmt.Errorf("unexpected entry %v", e)
		}
		if m := fmt.Sprintf("%v:%v", master[0], master[1]); !slices.Contains(ours, m) {
			return fmt.Errorf("slots %d-%d served by %s, not one of ours", start, end, m)
		}
		spans = append(spans, span{start, end})
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.start - b.start) })
	next := int64(0)
	for _, s := range spans {
		if s.start != next {
			return fmt.Errorf("slot %d not covered (or covered twice)", next)
		}
		next = s.end + 1
	}
	if next != clusterSlots {
		return fmt.Errorf("slots %d-%d not covered", next, clusterSlots-1)
	}
	return nil
}

// Client returns a go-redis cluster client for the nodes (go-redis defaults
// otherwise), created on first use and closed when the test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		c.client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	}
	return c.client
}

func (c *Cluster) closeClient() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		_ = c.client.Close()
		c.client = nil
	}
}
