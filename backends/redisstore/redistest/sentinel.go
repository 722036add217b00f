package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	sentinelCount  = 3
	sentinelQuorum = 2
)

// Sentinel is a Redis Sentinel group started for a test by [StartSentinel]: a
// master, one replica of it, and three redis-sentinel processes monitoring the
// master with quorum 2, down-after-milliseconds 1000 and failover-timeout 2000
// (see [WithDownAfter], [WithFailoverTimeout]), so a killed master is replaced
// within a few seconds.
//
// The sentinels' internal periods are shortened for tests with SENTINEL DEBUG
// (Redis 7), after every start: PING every 250ms, INFO every 1s (10s by
// default), hello messages every 500ms (2s), and TILT mode entered after a
// 600ms gap in the sentinel's own timer (2s) and left after 3s (30s). The TILT
// settings matter on a loaded machine: when the whole host stalls, every
// sentinel wakes to find its PINGs unanswered; with the TILT trigger below
// down-after it enters TILT instead of marking the master down, so no failover
// happens that the test did not cause, and it is back to normal 3s later.
//
// The zero value is not usable. The methods are safe for concurrent use. All
// processes are killed when the test ends.
type Sentinel struct {
	tb        testing.TB
	cfg       *config
	master    *Server
	replica   *Server
	sentinels []*Server

	mu     sync.Mutex
	client *redis.Client
}

// StartSentinel starts a master, a replica of it and three sentinels, and
// returns once the replica is in sync and every sentinel agrees on the master,
// sees the replica as a healthy slave and knows the two other sentinels — so a
// test may kill the master right away and get a failover. It fails the test if
// that state is not reached within the timeout (see [WithTimeout]).
func StartSentinel(t testing.TB, opts ...Option) *Sentinel {
	t.Helper()
	cfg := newConfig(opts)
	s := &Sentinel{tb: t, cfg: cfg}
	s.master = startServer(t, cfg, "sentinel master", false, nil)
	s.replica = startServer(t, cfg, "sentinel replica", false,
		[]string{"--replicaof", "127.0.0.1", strconv.Itoa(s.master.Port())})

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := waitUntil(ctx, 50*time.Millisecond, s.replicaSynced); err != nil {
		t.Fatalf("redistest: replica %s did not sync with master %s: %v", s.replica.Addr(), s.master.Addr(), err)
	}

	for i := 1; i <= sentinelCount; i++ {
		s.sentinels = append(s.sentinels, start(t, cfg, spec{
			label:   fmt.Sprintf("sentinel %d", i),
			bin:     "redis-sentinel",
			args:    s.sentinelArgs,
			onStart: s.tune,
		}))
	}

	ctx, cancel = context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := waitUntil(ctx, 50*time.Millisecond, s.settled); err != nil {
		t.Fatalf("redistest: sentinels did not settle: %v", err)
	}
	t.Cleanup(s.closeClient) // runs before the processes are killed
	return s
}

// sentinelArgs writes the sentinel's config file (sentinels must have one, and
// rewrite it as they learn) and returns the command line.
func (s *Sentinel) sentinelArgs(port int, dir string) ([]string, error) {
	name := s.cfg.masterName
	conf := strings.Join([]string{
		"port " + strconv.Itoa(port),
		"bind 127.0.0.1",
		"protected-mode no",
		"daemonize no",
		`logfile ""`,
		"dir " + strconv.Quote(dir),
		"sentinel resolve-hostnames no",
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d %d", name, s.master.Port(), sentinelQuorum),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", name, s.cfg.downAfter.Milliseconds()),
		fmt.Sprintf("sentinel failover-timeout %s %d", name, s.cfg.failoverTimeout.Milliseconds()),
		fmt.Sprintf("sentinel parallel-syncs %s 1", name),
	}, "\n") + "\n"
	path := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return []string{path}, nil
}

// tune shortens the sentinel's internal periods (see Sentinel). SENTINEL
// DEBUG settings live in memory only, so this runs after every start.
func (s *Sentinel) tune(ctx context.Context, sn *Server) error {
	trigger := min(max(s.cfg.downAfter*6/10, 300*time.Millisecond), 2*time.Second)
	_, err := do(ctx, sn.Addr(), "SENTINEL", "DEBUG",
		"ping-period", "250",
		"info-period", "1000",
		"publish-period", "500",
		"tilt-trigger", strconv.FormatInt(trigger.Milliseconds(), 10),
		"tilt-period", "3000",
	)
	if err != nil {
		return fmt.Errorf("SENTINEL DEBUG: %w", err)
	}
	return nil
}

// replicaSynced reports nil once the replica's link to the master is up and
// the master lists it online.
func (s *Sentinel) replicaSynced(ctx context.Context) error {
	info, err := doString(ctx, s.replica.Addr(), "INFO", "replication")
	if err != nil {
		return err
	}
	if st := infoField(info, "master_link_status"); st != "up" {
		return fmt.Errorf("replica master_link_status:%s", st)
	}
	info, err = doString(ctx, s.master.Addr(), "INFO", "replication")
	if err != nil {
		return err
	}
	if r := infoReplicas(info); len(r) == 0 || r[0]["state"] != "online" {
		return fmt.Errorf("master slave0:%s", infoField(info, "slave0"))
	}
	return nil
}

// settled reports nil once every sentinel agrees on the master, sees the
// replica as a healthy slave, and knows the other sentinels.
func (s *Sentinel) settled(ctx context.Context) error {
	name := s.cfg.masterName
	for _, sn := range s.sentinels {
		addr, err := s.masterAddrFrom(ctx, sn)
		if err != nil {
			return fmt.Errorf("sentinel %s: get-master-addr-by-name: %w", sn.Addr(), err)
		}
		if addr != s.master.Addr() {
			return fmt.Errorf("sentinel %s: master is %s, want %s", sn.Addr(), addr, s.master.Addr())
		}
		m, err := doMap(ctx, sn.Addr(), "SENTINEL", "MASTER", name)
		if err != nil {
			return fmt.Errorf("sentinel %s: master: %w", sn.Addr(), err)
		}
		if m["flags"] != "master" {
			return fmt.Errorf("sentinel %s: master flags %q", sn.Addr(), m["flags"])
		}
		if n := m["num-other-sentinels"]; n != strconv.Itoa(sentinelCount-1) {
			return fmt.Errorf("sentinel %s: num-other-sentinels %s, want %d", sn.Addr(), n, sentinelCount-1)
		}
		reps, err := doMaps(ctx, sn.Addr(), "SENTINEL", "REPLICAS", name)
		if err != nil {
			return fmt.Errorf("sentinel %s: replicas: %w", sn.Addr(), err)
		}
		if err := s.replicaHealthy(reps); err != nil {
			return fmt.Errorf("sentinel %s: %w", sn.Addr(), err)
		}
	}
	return nil
}

func (s *Sentinel) replicaHealthy(reps []map[string]string) error {
	for _, r := range reps {
		if r["ip"]+":"+r["port"] != s.replica.Addr() {
			continue
		}
		flags := strings.Split(r["flags"], ",")
		if !slices.Contains(flags, "slave") || slices.Contains(flags, "s_down") ||
			slices.Contains(flags, "o_down") || slices.Contains(flags, "disconnected") {
			return fmt.Errorf("replica %s flags %q", s.replica.Addr(), r["flags"])
		}
		if st := r["master-link-status"]; st != "ok" {
			return fmt.Errorf("replica %s master-link-status %q", s.replica.Addr(), st)
		}
		return nil
	}
	return fmt.Errorf("replica %s not known yet (%d replicas listed)", s.replica.Addr(), len(reps))
}

// masterAddrFrom asks one sentinel where the master is.
func (s *Sentinel) masterAddrFrom(ctx context.Context, sn *Server) (string, error) {
	reply, err := do(ctx, sn.Addr(), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.cfg.masterName)
	if err != nil {
		return "", err
	}
	hp, ok := reply.([]any)
	if !ok || len(hp) != 2 {
		return "", fmt.Errorf("unexpected reply %v", reply)
	}
	return fmt.Sprintf("%v:%v", hp[0], hp[1]), nil
}

// MasterName returns the name the sentinels monitor the master under.
func (s *Sentinel) MasterName() string { return s.cfg.masterName }

// SentinelAddrs returns the sentinels' addresses, for go-redis's
// FailoverOptions.SentinelAddrs.
func (s *Sentinel) SentinelAddrs() []string {
	addrs := make([]string, len(s.sentinels))
	for i, sn := range s.sentinels {
		addrs[i] = sn.Addr()
	}
	return addrs
}

// Master returns the server started as the master. After a failover it is no
// longer the master (and, once restarted, the sentinels make it a replica).
func (s *Sentinel) Master() *Server { return s.master }

// Replica returns the server started as the replica: the one a failover
// promotes.
func (s *Sentinel) Replica() *Server { return s.replica }

// Sentinels returns the three redis-sentinel processes, for tests that kill
// sentinels.
func (s *Sentinel) Sentinels() []*Server { return slices.Clone(s.sentinels) }

// WaitForFailover polls the sentinels until a majority of them name a master
// other than old (an address such as Master().Addr()) and that server answers
// ROLE as a master, and returns its address. A ctx without a deadline is
// bounded by the harness timeout (see [WithTimeout]). When ctx ends first, the
// error says which master each sentinel last named.
func (s *Sentinel) WaitForFailover(ctx context.Context, old string) (newMaster string, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.timeout)
		defer cancel()
	}
	err = waitUntil(ctx, pollInterval, func(ctx context.Context) error {
		votes := map[string]int{}
		var seen []string
		for _, sn := range s.sentinels {
			addr, err := s.masterAddrFrom(ctx, sn)
			if err != nil {
				seen = append(seen, sn.Addr()+": "+err.Error())
				continue
			}
			seen = append(seen, sn.Addr()+" says "+addr)
			if addr != old {
				votes[addr]++
			}
		}
		for addr, n := range votes {
			if n < len(s.sentinels)/2+1 {
				continue
			}
			reply, err := do(ctx, addr, "ROLE")
			if err != nil {
				return fmt.Errorf("new master %s: ROLE: %w", addr, err)
			}
			if role, ok := reply.([]any); !ok || len(role) == 0 || role[0] != "master" {
				return fmt.Errorf("new master %s: ROLE %v", addr, reply)
			}
			newMaster = addr
			return nil
		}
		return errors.New(strings.Join(seen, "; "))
	})
	if err != nil {
		return "", fmt.Errorf("redistest: no failover away from %s: %w", old, err)
	}
	return newMaster, nil
}

// Client returns a go-redis failover client (master name and sentinel
// addresses set, go-redis defaults otherwise), created on first use and closed
// when the test ends.
func (s *Sentinel) Client() *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:    s.MasterName(),
			SentinelAddrs: s.SentinelAddrs(),
		})
	}
	return s.client
}

func (s *Sentinel) closeClient() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		_ = s.client.Close()
		s.client = nil
	}
}

// waitUntil calls cond every interval until it returns nil or ctx ends; then
// it returns cond's last error.
func waitUntil(ctx context.Context, interval time.Duration, cond func(context.Context) error) error {
	for {
		err := cond(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %w", ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}
