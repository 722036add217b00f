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

// RetryHinter is implemented by backend errors that know when the backend may be
// reachable again (an open circuit breaker); 503 responses use it for Retry-After.
type RetryHinter interface {
	RetryAfter() time.Duration
}
