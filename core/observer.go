package core

import (
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// Observer is told about every decision and every call to a remote backend; metrics
// exporters implement it (adapters/promlimit). Methods are called on the request path and
// must be fast and safe for concurrent use; they must not keep d after returning.
type Observer interface {
	// ObserveDecision is called once per request the limiter decided (not for disabled
	// limiters).
	ObserveDecision(d *Decision)
	// ObserveBackend is called after each backend operation with its duration and, for a
	// failure, its kind; errKind is "" on success.
	ObserveBackend(operation string, took time.Duration, errKind rate.ErrorKind)
}

// MemoryObserver is an optional extension of [Observer] for the in-process memory store,
// which calls it when the Observer passed in [BackendEnv] implements it (adapters/promlimit
// does). Its methods must be safe for concurrent use.
type MemoryObserver interface {
	// WatchKeys gives the observer a function that counts the keys the store holds, to be
	// read when metrics are collected. The store calls it once, when it is built.
	WatchKeys(count func() int)
	// ObserveEvictions is called when the store forgot n keys: reason "expired" for keys
	// whose state had become a fresh key's (the sweeper, or room made in a full store),
	// "lru" for live keys evicted, least recently used first, from a full store.
	ObserveEvictions(reason string, n int)
}
