package core

import "time"

// Observer is told about every decision and every call to a remote backend; metrics
// exporters implement it (adapters/promlimit). Methods are called on the request path and
// must be fast and safe for concurrent use; they must not keep d after returning.
type Observer interface {
	// ObserveDecision is called once per request the limiter decided (not for disabled
	// limiters).
	ObserveDecision(d *Decision)
	// ObserveBackend is called after each backend operation with its duration and, for a
	// failure, its kind ("timeout", "connection", "script", "circuit_open", "other");
	// errKind is "" on success.
	ObserveBackend(operation string, took time.Duration, errKind string)
}
