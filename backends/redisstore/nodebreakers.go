package redisstore

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/ratewarden/ratewarden/core/config"
)

// maxNodeBreakers bounds the breakers a Cluster store keeps, one per master address it
// has sent a decision to: a Cluster's masters, and the addresses failovers and reshards
// bring over the store's life. Past the bound the breakers are forgotten and made anew.
const maxNodeBreakers = 1024

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// minReload is the shortest interval between two slot-map fetches a store asks for
// (see nodeBreakers.reloadSoon); it doubles while they go on, up to open_timeout.
const minReload = 200 * time.Millisecond

// nodeBreakers are a Cluster store's breakers, one per master: an outage of one master
// fails fast for the keys of its slots only, and the other masters go on deciding theirs.
// (One breaker for the whole Cluster opened on a dead master's failures and cut every
// client off.) They are safe for concurrent use.
type nodeBreakers struct {
	cluster *redis.ClusterClient
	cfg     config.CircuitBreakerConfig
	logger  *slog.Logger
	unknown *breaker // for a key whose master the client cannot name (no slot map yet): the store's
	mu      sync.Mutex
	byAddr  map[string]*breaker

	// owner is, per slot, the breaker of the master the slot map last named for it: when
	// another master is named, a failover or a reshard moved the slot (see forKey).
	owner [clusterSlots]atomic.Pointer[breaker]

	// The slot-map fetches the store asks for (reloadSoon): the earliest instant of the
	// next, and the interval after it, in ns since epoch.
	epoch       time.Time
	nextReload  atomic.Int64
	reloadEvery atomic.Int64
}

func newNodeBreakers(c *redis.ClusterClient, cfg config.CircuitBreakerConfig, logger *slog.Logger, unknown *breaker) *nodeBreakers {
	n := &nodeBreakers{cluster: c, cfg: cfg, logger: logger, unknown: unknown, byAddr: map[string]*breaker{}, epoch: time.Now()}
	n.reloadEvery.Store(int64(minReload))
	return n
}

// forKey returns the breaker of the master that serves key, as the client's slot map
// says now (it follows failovers and MOVED answers). A call redirected on its way (MOVED,
// ASK) counts toward the breaker of the master it was sent to.
//
// While the store's breaker (unknown) is open or probing, it answers for every key before
// the slot map is asked: without a slot map — a store that never reached the Cluster —
// naming the master fetches one (CLUSTER SLOTS to the seed nodes), and an open breaker
// must fail at once, without touching the network.
//
// When the slot map names another master for key's slot than it did, a failover or a
// reshard moved the slot, and the new master's breaker starts afresh if it is not closed:
// its failures were those of whatever served that address before (a failback to an
// address whose master died earlier: TestAFailbackToTheOldMasterIsFollowedPromptly).
func (n *nodeBreakers) forKey(ctx context.Context, key string) *breaker {
	if n.unknown.cb.State() != gobreaker.StateClosed {
		return n.unknown
	}
	node, err := n.cluster.MasterForKey(ctx, key)
	if err != nil {
		return n.unknown
	}
	addr := node.Options().Addr
	b := n.forAddr(addr)
	slot := &n.owner[keySlot(key)]
	if prev := slot.Swap(b); prev != nil && prev != b && b.cb.State() != gobreaker.StateClosed {
		b = n.renew(addr, b)
		slot.Store(b)
	}
	if b.cb.State() != gobreaker.StateClosed || b.cb.Counts().ConsecutiveFailures > 0 {
		n.reloadSoon(ctx)
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
		b = n.newBreaker(addr)
		n.byAddr[addr] = b
	}
	return b
}

// renew replaces old, the breaker of the master at addr, with a closed one, unless another
// decision did so already, and returns the master's breaker.
func (n *nodeBreakers) renew(addr string, old *breaker) *breaker {
	n.mu.Lock()
	defer n.mu.Unlock()
	if b := n.byAddr[addr]; b != nil && b != old {
		return b
	}
	b := n.newBreaker(addr)
	n.byAddr[addr] = b
	return b
}

func (n *nodeBreakers) newBreaker(addr string) *breaker {
	return newBreaker(n.cfg, n.logger.With(slog.String("node", addr)), n.reloadNow)
}

// reloadSoon asks go-redis to fetch the slot map again, because a master failed its last
// decision: it may be gone, and a replica may serve its slots by now. go-redis follows a
// failover only on a MOVED answer, which a dead master never sends and an open breaker
// never asks for, or when its slot map is ClusterStateReloadInterval old (60 s): without
// this, the slots of a master that died failed for a minute after a replica took them over
// (TestAClusterFailoverToAReplica). The fetch runs in the background (ReloadState).
//
// The fetches are spaced: at least minReload apart after a breaker opened, twice as far
// each time while masters keep failing, up to open_timeout. go-redis's own spacing holds
// only after a fetch that succeeded, so against a dead or frozen Cluster every decision
// started one (TestADeadClusterIsNotAskedForItsSlotsAtEveryDecision). A failover is then
// followed within one interval of the promotion: within open_timeout (5 s by default) at
// the latest, a few hundred ms when it comes soon after the master failed.
func (n *nodeBreakers) reloadSoon(ctx context.Context) {
	now := int64(time.Since(n.epoch))
	next := n.nextReload.Load()
	if now < next {
		return
	}
	every := n.reloadEvery.Load()
	if !n.nextReload.CompareAndSwap(next, now+every) {
		return
	}
	n.reloadEvery.Store(min(2*every, int64(max(n.cfg.OpenTimeout, minReload))))
	n.cluster.ReloadState(ctx)
}

// reloadNow lets the next decision that finds a master failing fetch the slot map at once,
// and the following ones minReload apart again: a breaker has just opened. It is called
// with that breaker's lock held.
func (n *nodeBreakers) reloadNow() {
	n.reloadEvery.Store(int64(minReload))
	n.nextReload.Store(0)
}

// keySlot is the Cluster hash slot of key, as Redis computes it: CRC16 (XMODEM) of the
// key's hash tag — what is between its first '{' and the first '}' after it, when that is
// not empty — or of the whole key, modulo 16384 (Redis Cluster specification, "Keys
// distribution model").
func keySlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^key[i]]
	}
	return int(crc % clusterSlots)
}

// crc16Table is CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), by byte.
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()
