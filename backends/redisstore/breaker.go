package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// breaker wraps a gobreaker circuit breaker: it opens after failureThreshold consecutive
// failed decisions, fails fast while open, and lets one probe through after openTimeout
// (half-open); the probe's success closes it, its failure opens it again.
type breaker struct {
	cb          *gobreaker.CircuitBreaker[struct{}]
	openTimeout time.Duration
	epoch       time.Time    // monotonic origin of openedAt
	openedAt    atomic.Int64 // ns since epoch of the last transition to open
}

func newBreaker(cfg config.CircuitBreakerConfig, logger *slog.Logger) *breaker {
	b := &breaker{openTimeout: cfg.OpenTimeout, epoch: time.Now()}
	threshold := uint32(max(1, cfg.FailureThreshold))
	b.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1, // one probe when half-open
		Timeout:     cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		// A request its caller canceled says nothing about Redis.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		// Called with the breaker's lock held: it must not call the breaker.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.openedAt.Store(int64(time.Since(b.epoch)))
			}
			level := slog.LevelWarn
			if to == gobreaker.StateClosed {
				level = slog.LevelInfo
			}
			logger.LogAttrs(context.Background(), level, "redis_circuit_breaker",
				slog.String("from", from.String()), slog.String("to", to.String()))
		},
	})
	return b
}

// do runs f unless the breaker is open. While it is open it returns an *Error of kind
// circuit_open right away.
func (b *breaker) do(f func() error) error {
	_, err := b.cb.Execute(func() (struct{}, error) { return struct{}{}, f() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &Error{Kind: rate.KindCircuitOpen, Err: ErrCircuitOpen, retryAfter: b.untilProbe()}
	}
	return err
}

// untilProbe is the time left before an open breaker lets a probe through (zero when a
// probe is already due or in flight).
func (b *breaker) untilProbe() time.Duration {
	opened := time.Duration(b.openedAt.Load())
	return max(0, opened+b.openTimeout-time.Since(b.epoch))
}

// maxNodeBreakers bounds the breakers a Cluster store keeps, one per master address it
// has sent a decision to: a Cluster's masters, and the addresses failovers and reshards
// bring over the store's life. Past the bound the breakers are forgotten and made anew.
const maxNodeBreakers = 1024

// nodeBreakers are a Cluster store's breakers, one per master: an outage of one master
// fails fast for the keys of its slots only, and the other masters go on deciding theirs.
// (One breaker for the whole Cluster opened on a dead master's failures and cut every
// client off from Redis.) They are safe for concurrent use.
type nodeBreakers struct {
	cluster *redis.ClusterClient
	cfg     config.CircuitBreakerConfig
	logger  *slog.Logger
	unknown *breaker // for a key whose master the client cannot name (no slot map yet): the store's
	mu      sync.Mutex
	byAddr  map[string]*breaker
}

func newNodeBreakers(c *redis.ClusterClient, cfg config.CircuitBreakerConfig, logger *slog.Logger, unknown *breaker) *nodeBreakers {
	return &nodeBreakers{cluster: c, cfg: cfg, logger: logger, unknown: unknown, byAddr: map[string]*breaker{}}
}

// forKey returns the breaker of the master that serves key, as the client's slot map
// says now (it follows failovers and MOVED answers). A call redirected on its way (MOVED,
// ASK) counts toward the breaker of the master it was sent to.
//
// While the store's breaker (unknown) is open or probing, it answers for every key before
// the slot map is asked: without a slot map — a store that never reached the Cluster —
// naming the master fetches one (CLUSTER SLOTS to the seed nodes), and an open breaker
// must fail at once, without touching the network.
func (n *nodeBreakers) forKey(ctx context.Context, key string) *breaker {
	if n.unknown.cb.State() != gobreaker.StateClosed {
		return n.unknown
	}
	node, err := n.cluster.MasterForKey(ctx, key)
	if err != nil {
		return n.unknown
	}
	b := n.forAddr(node.Options().Addr)
	if b.cb.State() != gobreaker.StateClosed || b.cb.Counts().ConsecutiveFailures > 0 {
		// The master failed its last decision: it may be gone, and a replica may serve its
		// slots by now. go-redis follows a failover only on a MOVED answer, which a dead
		// master never sends and an open breaker never asks for, or when its slot map is
		// ClusterStateReloadInterval old (60 s): without this, the slots of a master that
		// died failed for a minute after a replica took them over
		// (TestAClusterFailoverToAReplica). ReloadState fetches the slot map in the
		// background, once at a time and at most every 200 ms however often it is asked.
		n.cluster.ReloadState(ctx)
	}
	return b
}

// forAddr returns the breaker of the master at addr, made on first use.
func (n *nodeBreakers) forAddr(addr string) *breaker {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.byAddr[addr]
	if b == nil {
		if len(n.byAddr) >= maxNodeBreakers {
			clear(n.byAddr)
		}
		b = newBreaker(n.cfg, n.logger.With(slog.String("node", addr)))
		n.byAddr[addr] = b
	}
	return b
}
