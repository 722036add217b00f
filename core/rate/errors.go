package rate

import (
	"errors"
	"time"
)

// ErrUnavailable is the error a store returns (wrapped) when its backend cannot decide.
var ErrUnavailable = errors.New("ratewarden: backend unavailable")

// ErrCost is returned (wrapped) by a [Store]'s Take for a cost below 1 or above the
// smallest window limit of the policy ([Policy.MaxCost]), which no window could ever
// admit. It is not a backend error. [Policy.CheckCost] returns it.
var ErrCost = errors.New("ratewarden: request cost outside 1..limit")

// ErrorKind classifies a backend failure: it is the kind label of the
// ratelimit_redis_errors_total metric and the "kind" of error log records. The empty kind
// means the operation succeeded.
type ErrorKind string

// The kinds of backend failures.
const (
	KindTimeout     ErrorKind = "timeout"      // the decision's time budget (redis.timeout) ran out
	KindConnection  ErrorKind = "connection"   // no usable connection: refused, reset, closed, failover in progress
	KindScript      ErrorKind = "script"       // the backend answered the script with an error
	KindCircuitOpen ErrorKind = "circuit_open" // the circuit breaker is open: the backend was not asked
	KindOther       ErrorKind = "other"        // anything else (a canceled request, a malformed reply)
)

// ErrorKinds lists every kind of failure, for exporters that make one series each.
var ErrorKinds = [...]ErrorKind{KindTimeout, KindConnection, KindScript, KindCircuitOpen, KindOther}

// RetryHinter is implemented by backend errors that know when the backend may be
// reachable again (an open circuit breaker); 503 responses use it for Retry-After.
type RetryHinter interface {
	RetryAfter() time.Duration
}
