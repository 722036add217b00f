package rate

import (
	"fmt"
	"strings"
)

// Algorithm is a rate-limiting algorithm. The zero value is [TokenBucket].
//
// Every algorithm admits a burst of Limit requests from a fresh client within one window
// (for [FixedWindow]: within one aligned window) and denies the next one. The state each
// keeps, and the arithmetic on it, is in docs/algorithms.md; the methods of [Policy] hold
// that arithmetic for in-process stores, and the Redis scripts mirror it line for line.
type Algorithm uint8

// The algorithms.
const (
	TokenBucket   Algorithm = iota // a bucket of Limit tokens refilled continuously at Limit/Window
	SlidingWindow                  // at most Limit requests in any interval of length Window (exact log)
	FixedWindow                    // at most Limit requests per aligned window [k*Window, (k+1)*Window)
	GCRA                           // token bucket admission stored as one theoretical arrival time
	// SlidingWindowCounter approximates SlidingWindow from two counters, this and the
	// previous aligned window's, the previous one weighted by its overlap with the sliding
	// window (Cloudflare's method); never more than Limit per aligned window.
	SlidingWindowCounter
)

var algorithmNames = [...]string{
	TokenBucket:   "token_bucket",
	SlidingWindow: "sliding_window",
	FixedWindow:   "fixed_window",
	GCRA:          "gcra",

	SlidingWindowCounter: "sliding_window_counter",
}

// String returns the configuration name of a: "token_bucket", "sliding_window",
// "fixed_window", "gcra" or "sliding_window_counter".
func (a Algorithm) String() string {
	if int(a) < len(algorithmNames) {
		return algorithmNames[a]
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// Algorithms returns every algorithm, in the order of their values ([TokenBucket] first).
// Code that handles or tests each algorithm ranges over it — the Redis scripts, the
// conformance suites — so that a new algorithm cannot be left out of one of them.
func Algorithms() []Algorithm {
	all := make([]Algorithm, len(algorithmNames))
	for i := range all {
		all[i] = Algorithm(i)
	}
	return all
}

// Continuous reports whether a refills continuously, a fraction of a unit at a time
// ([TokenBucket], [GCRA]), rather than by whole windows or by admissions leaving one.
func (a Algorithm) Continuous() bool { return a == TokenBucket || a == GCRA }

// ParseAlgorithm returns the algorithm with configuration name s. Its error says what
// the name must be: "must be one of token_bucket, …, got \"x\"".
func ParseAlgorithm(s string) (Algorithm, error) {
	for a, name := range algorithmNames {
		if s == name {
			return Algorithm(a), nil
		}
	}
	return 0, fmt.Errorf("must be one of %s, got %q", strings.Join(algorithmNames[:], ", "), s)
}
