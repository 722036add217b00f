// Package memorystore is the embedded, in-process backend of ratewarden: the default when
// no other backend is configured. Importing it registers the "memory" backend with core.
//
// A [Store] is safe for concurrent use. Keys are spread over shards, each behind its own
// mutex, so requests for different clients rarely contend; deciding a known key allocates
// nothing. The number of keys is bounded (memory.max_keys): when a shard is full, its least
// recently used key (to within a second) is evicted, so idle and expired keys go first. Keys whose state has returned to that of a fresh key
// are swept every memory.sweep_interval.
package memorystore
