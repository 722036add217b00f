// Package memorystore is the embedded, in-process backend of ratewarden: the default when
// no other backend is configured. Importing it registers the "memory" backend with core.
//
//	import _ "github.com/ratewarden/ratewarden/backends/memorystore"
//
//	lim, err := core.New(cfg) // backend = "memory", the default
//
// The adapters (adapters/httplimit, ginlimit, echolimit, chilimit) import it already.
// Build a [Store] with [New] and pass it with core.WithStore to share one store between
// Limiters.
//
// A [Store] is safe for concurrent use. Keys are spread over shards, each behind its own
// mutex, so requests for different clients rarely contend; deciding a known key allocates
// nothing. A key's state is a [rate.KeyState]: about 200 bytes idle, more only with the
// requests a sliding window holds.
//
// The number of keys is bounded by memory.max_keys, for the store as a whole. When it is
// reached, a new key makes room by forgetting the keys whose state equals a fresh key's —
// first in its own shard, then in the others — and, only when there are none, the least
// recently used key of its own shard (to within a second; with up to 256 shards, an
// approximation of the store's LRU order that costs no store-wide lock). While several
// goroutines insert into a full store at once, one of them may pass over a fresh key in
// a shard another holds. Finding a fresh key costs O(1) keys visited per insert, amortised:
// a sweep of a shard records its soonest-expiring keys, which later inserts take from, so
// keys that expire one at a time do not make each insert sweep its shard. Each eviction is reported to a [backend.MemoryObserver] and a
// live key's eviction is logged at warn at most once a minute, since it hands its client a
// fresh quota. Keys whose state has returned to that of a fresh key are also swept every
// memory.sweep_interval.
package memorystore
