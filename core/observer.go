package core

import "github.com/ratewarden/ratewarden/core/backend"

// Observer is told about every decision and every call to a remote backend; metrics
// exporters implement it (adapters/promlimit). Methods are called on the request path and
// must be fast and safe for concurrent use; they must not keep d after returning.
type Observer interface {
	// ObserveDecision is called once per request the limiter decided (not for disabled
	// limiters).
	ObserveDecision(d *Decision)
	// ObserveBackend, called after each backend operation, comes from backend.Observer;
	// an Observer that also implements backend.MemoryObserver hears from the memory store.
	backend.Observer
}
