package rate

import (
	"context"
	"time"
)

// MaxWindows is the most windows one rule may have: enough for a per-second,
// per-minute, per-hour and per-day limit, and small enough that a decision fits in one
// 768-byte allocation.
const MaxWindows = 4

// Store keeps the counters behind decisions. Implementations are safe for concurrent use.
//
// Take decides one request against every window of req.Policy at once: it admits the
// request only if every window allows req.Cost more units, and then consumes them in all
// windows; a denied request consumes nothing. It fills res and returns a non-nil error only
// when it could not decide (the backend is unreachable, the time budget ran out); the
// core.Limiter then applies the configured fail mode.
//
// The conformance suite in package storetest states the contract case by case; every
// backend passes it.
type Store interface {
	Take(ctx context.Context, req *Request, res *Result) error
	Close() error
}

// Request is one decision asked of a [Store].
type Request struct {
	// Key names the counters: "<scope>:<id>:<rule>", e.g. "ip:203.0.113.7:default".
	// It may share memory with a buffer the caller reuses: a store that keeps the key
	// beyond Take must copy it (strings.Clone).
	Key string
	// Policy holds the algorithm, windows and penalty of the rule. It is immutable and
	// shared by every request of the rule and tier, so stores may use its address to cache
	// what they derive from it.
	Policy *Policy
	// Cost is the number of units the request consumes in every window; at least 1.
	Cost int64
	// Now is the decision time as the application sees it. In-process stores use it;
	// the Redis store uses the Redis server's clock instead.
	Now time.Time
}

// Result is what a [Store] answers for one [Request].
type Result struct {
	// Allowed reports whether the request was admitted (and its cost consumed).
	Allowed bool
	// Windows holds one entry per window of the policy, in the policy's order.
	Windows [MaxWindows]WindowResult
	// Cooldown is the penalty cooldown left (zero when none is in force). A request
	// denied during a cooldown, or whose denial started one, has Cooldown > 0.
	Cooldown time.Duration
	// Violations is the number of violations that count toward the penalty, including this
	// request's when it was one.
	Violations int
	// Fallback reports that the request was decided in-process because the backend was
	// unavailable (fail_mode = "local").
	Fallback bool
}

// WindowResult is the state of one window after a decision.
type WindowResult struct {
	// Allowed reports whether this window alone would admit the request.
	Allowed bool
	// Remaining is the number of units left in the window after the decision; a denied
	// request leaves it as it was, so it can be above 0 when the cost exceeded it.
	Remaining int64
	// ResetAfter is the time until the window is full again (all Limit units available).
	ResetAfter time.Duration
	// RetryAfter is, for a window that denied, the time until it would admit the same
	// request; zero for a window that allowed.
	RetryAfter time.Duration
}
