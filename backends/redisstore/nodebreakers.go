package redisstore

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ratewarden/ratewarden/core/config"
)

// maxNodeBreakers bounds the breakers a Cluster store keeps, one per master address it
// has sent a decision to: a Cluster's masters, and the addresses failovers and reshards
// bring over the store's life. Past the bound the breakers are forgotten and made anew.
const maxNodeBreakers = 1024

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// reloadEvery is the shortest interval between two slot-map fetches a store asks for
// (see nodeBreakers.reloadSoon).
const reloadEvery = 200 * time.Millisecond

// nodeBreakers are a Cluster store's breakers, one per master: an outage of one master
// fails fast for the keys of its slots only, and the other masters go on deciding theirs.
// (One breaker for the whole Cluster opened on a dead master's failures and cut every
// client off.) A CLUSTERDOWN answer counts neither way: the node that sent it is alive, and
// go-redis sends the decisions of a slot no master serves to a random master, whose breaker
// those answers opened for its own clients
// (TestAnUnservedSlotDoesNotOpenHealthyMastersBreakers). They are safe for concurrent use.
type nodeBreakers struct {
	cluster *redis.ClusterClient
	cfg     config.CircuitBreakerConfig
	logger  *slog.Logger
	unknown *breaker // for a key whose master the client cannot name (no slot map yet): the store's
	mu      sync.Mutex
	byAddr  map[string]*breaker
	// renewed is when each master's breaker was last made afresh because a slot moved to
	// it (renew): at most once per open_timeout, so that moves cannot keep a dead master's
	// breaker from failing fast.
	renewed map[string]time.Time

	// owner is, per slot, the address of the master the slot map last named for it: when
	// another address is named, a failover or a reshard moved the slot (see forKey).
	owner [clusterSlots]atomic.Pointer[string]

	// The earliest instant of the next slot-map fetch the store asks for (reloadSoon), in
	// ns since epoch.
	epoch      time.Time
	nextReload atomic.Int64
	// hungUntil is when, in ns since epoch, two open_timeouts will have passed since a
	// master's breaker last opened on a timed-out call (see hung).
	hungUntil atomic.Int64
}

// timedOut records that a call timed out and its master's breaker is open: the master
// hangs.
func (n *nodeBreakers) timedOut() {
	n.hungUntil.Store(int64(time.Since(n.epoch) + 2*n.cfg.OpenTimeout))
}

// hung reports whether a master's breaker opened on a timed-out call within the last two
// open_timeouts (its half-open probes, timing out, keep it so while it hangs). Meanwhile
// every decision goes alone rather than through the AutoPipeliner (Store.run): a batch a
// hung master holds there holds the decisions of every master queued in its shard, for as
// long as the master hangs. A master that is down rather than hung (connection refused)
// holds no batch, a full pool is no hang, and a script that fails on a decision's keys is
// an answer: none of them counts.
func (n *nodeBreakers) hung() bool {
	return int64(time.Since(n.epoch)) < n.hungUntil.Load()
}

func newNodeBreakers(c *redis.ClusterClient, cfg config.CircuitBreakerConfig, logger *slog.Logger, unknown *breaker) *nodeBreakers {
	return &nodeBreakers{cluster: c, cfg: cfg, logger: logger, unknown: unknown, byAddr: map[string]*breaker{}, renewed: map[string]time.Time{}, epoch: time.Now()}
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
// When the slot map names another master's address for key's slot than it did, a
// failover or a reshard moved the slot, and the new master's breaker starts afresh if it
// is not closed: its failures were those of whatever served that address before (a
// failback to an address whose master died earlier:
// TestAFailbackToTheOldMasterIsFollowedPromptly). At most once per open_timeout per
// address: a reshard of many slots into a master that then died would otherwise renew its
// open breaker at every moved slot, and every renewal lets failure_threshold decisions
// reach the dead master (TestAReshardDoesNotMakeADeadMastersBreakerHammerIt).
//
// failing is b.failing(), read once for the caller too (Store.run).
func (n *nodeBreakers) forKey(ctx context.Context, key string) (b *breaker, failing bool) {
	if !n.unknown.closed() {
		return n.unknown, true
	}
	node, err := n.cluster.MasterForKey(ctx, key)
	if err != nil {
		return n.unknown, n.unknown.failing()
	}
	addr := node.Options().Addr
	b = n.forAddr(addr)
	slot := &n.owner[keySlot(key)]
	if prev := slot.Load(); prev == nil || *prev != addr {
		slot.Store(&addr)
		if prev != nil && !b.closed() {
			b = n.renew(addr, b)
		}
	}
	if failing = b.failing(); failing {
		n.reloadSoon(ctx)
	}
	return b, failing
}

// forAddr returns the breaker of the master at addr, made on first use.
func (n *nodeBreakers) forAddr(addr string) *breaker {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.byAddr[addr]
	if b == nil {
		if len(n.byAddr) >= maxNodeBreakers {
			clear(n.byAddr)
			clear(n.renewed)
		}
		b = n.newBreaker(addr)
		n.byAddr[addr] = b
	}
	return b
}

// renew replaces old, the breaker of the master at addr, with a closed one, unless another
// decision did so already or it was renewed less than open_timeout ago, and returns the
// master's breaker.
func (n *nodeBreakers) renew(addr string, old *breaker) *breaker {
	n.mu.Lock()
	defer n.mu.Unlock()
	if b := n.byAddr[addr]; b != nil && b != old {
		return b
	}
	if at, ok := n.renewed[addr]; ok && time.Since(at) < n.cfg.OpenTimeout {
		return old
	}
	b := n.newBreaker(addr)
	n.byAddr[addr] = b
	n.renewed[addr] = time.Now()
	return b
}

func (n *nodeBreakers) newBreaker(addr string) *breaker {
	return newBreaker(n.cfg, n.logger.With(slog.String("node", addr)), redis.IsClusterDownError)
}

// reloadSoon asks go-redis to fetch the slot map again, because a master failed its last
// decision: it may be gone, and a replica may serve its slots by now. go-redis follows a
// failover only on a MOVED answer, which a dead master never sends and an open breaker
// never asks for, or when its slot map is ClusterStateReloadInterval old (60 s): without
// this, the slots of a master that died failed for a minute after a replica took them over
// (TestAClusterFailoverToAReplica). The fetch runs in the background (ReloadState).
//
// The fetches are spaced reloadEvery apart at least, by the store: go-redis spaces them
// only after a fetch that succeeded, so against a dead Cluster every decision started one
// (TestADeadClusterIsNotAskedForItsSlotsAtEveryDecision: 554 commands in 2 s with 32
// callers). Spacing them further, doubling up to a second, followed failovers late under
// load: TestAFrozenMasterFailsOverUnderConcurrentLoad failed so (its new master's breaker
// opened on the decisions in flight when the slot map changed, two seconds after the
// promotion), so a failover is followed within about reloadEvery of the promotion.
func (n *nodeBreakers) reloadSoon(ctx context.Context) {
	now := int64(time.Since(n.epoch))
	next := n.nextReload.Load()
	if now < next || !n.nextReload.CompareAndSwap(next, now+int64(reloadEvery)) {
		return
	}
	n.cluster.ReloadState(ctx)
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
