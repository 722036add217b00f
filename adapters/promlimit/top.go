package promlimit

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/clientip"
)

// topClients is the collector behind current_usage: a bounded tracker of the clients with
// the highest usage, and at scrape time the topN of them whose windows have not reset.
//
// The approximation. Usage is only known when a client makes a request, so each tracked
// client keeps the usage ratio of its binding window as of its last request, the time of
// that request and the time the window is full again (d.Reset). Between requests usage
// can only fall: for token_bucket and gcra it drains linearly to 0 at the reset time, and
// the scrape reports that projection (which is exact while the same window stays binding);
// for fixed_window it stays until the window ends, exactly; for sliding_window the value of
// the last request is kept until the last admitted request leaves the window, an upper
// bound; for sliding_window_counter it is kept until the window after the request's
// aligned window ends, when the request's count no longer weighs: an upper bound too.
// Once the reset time has passed the client is dropped, so its series disappears.
//
// The tracker holds at most shardCount × perShard clients (perShard = max(8, topN/2):
// 16 × 10 = 160 for the default 20). When a shard is full, a new client replaces the
// shard's least busy entry (one whose window has reset, else the lowest current usage)
// only if its usage is higher; otherwise it is not tracked until a later request of it
// has a usage higher than the least busy. Hence a client that was below every tracked one at its last
// request, and whose tracked peers have since gone quiet, is not shown until it makes
// another request; and should more than perShard of the busiest clients hash to one
// shard, the least busy of them is missed (for the defaults, 11 of the 20 busiest in one
// of 16 shards: a chance of about one in ten million).
type topClients struct {
	desc     *prometheus.Desc
	n        int
	now      func() time.Time
	perShard int
	shards   [shardCount]topShard
}

const (
	shardCount = 16
	shardShift = 64 - 4 // the top 4 bits of a client's hash pick one of 16 shards

	// minRefresh bounds how long a shard trusts its cached least busy entry while usage
	// drains with time.
	minRefresh = int64(100 * time.Millisecond)
)

// topShard is a bounded hash table of clients: entries, plus an open-addressing index
// over them (linear probing, load ≤ 1/2, backward-shift deletion) keyed by each client's
// 64-bit hash, so that a request hashes its client once for both the shard and the slot.
type topShard struct {
	mu      sync.Mutex
	slots   []int32 // index+1 into entries; 0 = empty
	mask    uint64  // len(slots)-1
	entries []topEntry

	// minIdx caches the index of the least busy entry (-1: unknown), found at minAt with
	// usage minVal; it saves a scan of the shard for each new client while the shard is
	// full.
	minIdx int32
	minVal float64
	minAt  int64

	_ [64]byte // keep shards' locks on separate cache lines
}

// clientKey identifies a tracked client: comparable, and built from a decision without
// allocating (the label "ip:203.0.113.7" is only formatted at scrape time).
type clientKey struct {
	rule  string
	scope string
	ip    netip.Prefix // ScopeIP
	id    string       // ScopeUser and ScopeKey
}

type topEntry struct {
	hash uint64
	key  clientKey
	usageSample
}

// usageSample is a client's usage as of its last request.
type usageSample struct {
	ratio  float64 // usage of the binding window, 0..1
	at     int64   // time of the request, Unix ns
	reset  int64   // when that window is full again, Unix ns
	linear bool    // usage drains linearly until reset (token_bucket, gcra)
}

// usage returns the sample's usage at now: 0 once its window has reset.
func (e *usageSample) usage(now int64) float64 {
	switch {
	case now >= e.reset:
		return 0
	case !e.linear || now <= e.at:
		return e.ratio
	}
	return e.ratio * float64(e.reset-now) / float64(e.reset-e.at)
}

func newTopClients(namespace string, n int, now func() time.Time) *topClients {
	t := &topClients{
		desc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "current_usage"),
			"Usage ratio (0..1) of the binding window of the busiest clients, at most metrics.top_clients series; a client's series disappears when its window has reset.",
			[]string{"rule", "client"}, nil),
		n:        n,
		now:      now,
		perShard: max(8, (n+1)/2),
	}
	slots := 1 << bits.Len(uint(2*t.perShard-1)) // a power of two ≥ 2 × perShard
	for i := range t.shards {
		sh := &t.shards[i]
		sh.slots = make([]int32, slots)
		sh.mask = uint64(slots - 1)
		sh.entries = make([]topEntry, 0, t.perShard)
		sh.minIdx = -1
	}
	return t
}

// hashSeed keys the client hash, so that nobody can choose addresses that share a shard.
var hashSeed = maphash.MakeSeed()

var seeds = func() (s [3]uint64) {
	for i := range s {
		s[i] = maphash.Comparable(hashSeed, i) | 1
	}
	return s
}()

// hashRule hashes a rule name once, when its series are created.
func hashRule(rule string) uint64 { return maphash.String(hashSeed, rule) }

// mix is the wyhash mixing step: a 64×64→128 multiply folded to 64 bits.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashClient hashes a client key whose rule hashes to ruleHash.
func hashClient(k *clientKey, ruleHash uint64) uint64 {
	var h uint64
	if k.scope == core.ScopeIP {
		a := k.ip.Addr().As16()
		h = mix(binary.LittleEndian.Uint64(a[:8])^seeds[0], binary.LittleEndian.Uint64(a[8:])^seeds[1]^uint64(k.ip.Bits()))
	} else {
		h = maphash.String(hashSeed, k.id) ^ uint64(len(k.scope))
	}
	return mix(h^ruleHash, seeds[2])
}

// observe records the usage of a limited decision.
func (t *topClients) observe(d *core.Decision, ruleHash uint64) {
	w, r, _ := d.Binding()
	limit := w.Limit
	if limit <= 0 {
		return
	}
	u := usageSample{
		ratio:  min(max(float64(limit-r.Remaining)/float64(limit), 0), 1),
		at:     d.Now().UnixNano(),
		linear: d.Policy().Algorithm.Continuous(),
	}
	u.reset = u.at + int64(r.ResetAfter)
	k := clientKey{rule: d.Rule(), scope: d.Scope()}
	if d.Scope() == core.ScopeIP {
		k.ip = d.IPKey()
	} else {
		k.id = d.CountedID() // bounded, as in the logs: a client's id could be a megabyte
	}
	h := hashClient(&k, ruleHash)
	sh := &t.shards[h>>shardShift]
	sh.mu.Lock()
	sh.put(h, &k, u)
	sh.mu.Unlock()
}

// find returns the slot of the entry with e's hash and key, or of the empty slot where
// it belongs.
func (sh *topShard) find(hash uint64, k *clientKey) (slot uint64, found bool) {
	for s := hash & sh.mask; ; s = (s + 1) & sh.mask {
		i := sh.slots[s]
		if i == 0 {
			return s, false
		}
		if e := &sh.entries[i-1]; e.hash == hash && e.key == *k {
			return s, true
		}
	}
}

// unlink empties slot s, shifting back the entries after it that probed past it.
func (sh *topShard) unlink(s uint64) {
	for j := (s + 1) & sh.mask; sh.slots[j] != 0; j = (j + 1) & sh.mask {
		home := sh.entries[sh.slots[j]-1].hash & sh.mask
		// Move the entry in j to s unless its home lies cyclically in (s, j].
		if (j-home)&sh.mask >= (j-s)&sh.mask {
			sh.slots[s] = sh.slots[j]
			s = j
		}
	}
	sh.slots[s] = 0
}

// put updates the entry of k, or adds it when there is room or it is busier than the
// least busy entry. The caller holds sh.mu.
func (sh *topShard) put(hash uint64, k *clientKey, u usageSample) {
	s, found := sh.find(hash, k)
	if found {
		i := sh.slots[s] - 1
		sh.entries[i].usageSample = u
		switch {
		case sh.minIdx == i:
			sh.minIdx = -1
		case sh.minIdx >= 0 && u.ratio < sh.minVal:
			sh.minIdx, sh.minVal, sh.minAt = i, u.ratio, u.at
		}
		return
	}
	if u.ratio <= 0 || u.reset <= u.at {
		return // nothing to show
	}
	e := topEntry{hash: hash, key: *k, usageSample: u}
	e.key.id = strings.Clone(e.key.id) // it may belong to the request; rule and scope are the configuration's
	if len(sh.entries) < cap(sh.entries) {
		sh.entries = append(sh.entries, e)
		sh.slots[s] = int32(len(sh.entries))
		return
	}
	v := sh.leastBusy(u.at)
	victim := &sh.entries[v]
	if victim.reset > u.at && u.ratio <= victim.usage(u.at) {
		return
	}
	vs, _ := sh.find(victim.hash, &victim.key)
	sh.unlink(vs)
	*victim = e
	s, _ = sh.find(hash, k) // the unlink may have moved the free slot
	sh.slots[s] = v + 1
	sh.minIdx = -1
}

// remove deletes entries[i], moving the last entry into its place.
func (sh *topShard) remove(i int) {
	s, _ := sh.find(sh.entries[i].hash, &sh.entries[i].key)
	sh.unlink(s)
	last := len(sh.entries) - 1
	if i != last {
		ls, _ := sh.find(sh.entries[last].hash, &sh.entries[last].key)
		sh.slots[ls] = int32(i + 1)
		sh.entries[i] = sh.entries[last]
	}
	sh.entries[last] = topEntry{}
	sh.entries = sh.entries[:last]
	sh.minIdx = -1
}

// leastBusy returns the index of the entry to replace first: one whose window has reset,
// else the one with the lowest usage at now. The shard is full.
func (sh *topShard) leastBusy(now int64) int32 {
	if sh.minIdx >= 0 && now >= sh.minAt && now-sh.minAt < minRefresh {
		return sh.minIdx
	}
	best, bestVal := int32(0), 2.0
	for i := range sh.entries {
		u := sh.entries[i].usage(now)
		if u < bestVal {
			best, bestVal = int32(i), u
			if u == 0 {
				break
			}
		}
	}
	sh.minIdx, sh.minVal, sh.minAt = best, bestVal, now
	return best
}

// Describe implements prometheus.Collector.
func (t *topClients) Describe(ch chan<- *prometheus.Desc) { ch <- t.desc }

// Collect implements prometheus.Collector: it drops the clients whose windows have reset
// and emits the n busiest of the others.
func (t *topClients) Collect(ch chan<- prometheus.Metric) {
	now := t.now().UnixNano()
	type row struct {
		key   clientKey
		usage float64
	}
	var rows []row
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for j := 0; j < len(sh.entries); {
			e := &sh.entries[j]
			u := e.usage(now)
			if u > 0 {
				rows = append(rows, row{e.key, u})
				j++
				continue
			}
			sh.remove(j) // the window has reset: forget the client
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(rows, func(a, b row) int {
		if c := cmp.Compare(b.usage, a.usage); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.key.rule, b.key.rule), strings.Compare(a.key.scope, b.key.scope),
			a.key.ip.Addr().Compare(b.key.ip.Addr()), strings.Compare(a.key.id, b.key.id))
	})
	seen := make(map[[2]string]bool, t.n)
	for _, r := range rows {
		if len(seen) == t.n {
			break
		}
		// Label values must be UTF-8; a custom key need not be. Two keys that only
		// differ in invalid bytes would then share a label, and a registry refuses a
		// series twice: the busier one is kept.
		labels := [2]string{r.key.rule, strings.ToValidUTF8(clientLabel(&r.key), "\uFFFD")}
		if seen[labels] {
			continue
		}
		seen[labels] = true
		ch <- prometheus.MustNewConstMetric(t.desc, prometheus.GaugeValue, r.usage, labels[0], labels[1])
	}
}

// clientLabel is the client as [core.Decision.ClientID] writes it: "ip:203.0.113.7",
// "ip:2001:db8:1:2::/64", "user:alice", "key:tenant-7".
func clientLabel(k *clientKey) string {
	if k.scope == core.ScopeIP {
		return string(clientip.AppendKey([]byte("ip:"), k.ip))
	}
	return k.scope + ":" + k.id
}
