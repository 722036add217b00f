package config

import (
	"fmt"

	"github.com/ratewarden/ratewarden/core/internal/problem"
	"github.com/ratewarden/ratewarden/core/rate"
)

// Mode is what the limiter does with a request over its limit: ModeEnforce answers 429,
// ModeShadow lets it through and only logs and counts it. "" means ModeEnforce.
type Mode string

// Backend names the store that keeps the counters: BackendMemory (in process) or
// BackendRedis. "" means BackendMemory.
type Backend string

// FailMode is what the limiter does when its backend cannot decide: FailOpen lets the
// request through, FailClosed answers 503, FailLocal decides in process. "" means FailOpen.
type FailMode string

// Algorithm names the algorithm of every rule: a name of [rate.Algorithm] ("token_bucket",
// "sliding_window", "fixed_window", "gcra", "sliding_window_counter"), which keeps the list
// ([rate.Algorithms]). "" means token_bucket.
type Algorithm string

// Rate returns the algorithm a names ("" is rate.TokenBucket), or the problem validation
// reports.
func (a Algorithm) Rate() (rate.Algorithm, error) {
	if a == "" {
		return rate.TokenBucket, nil
	}
	return rate.ParseAlgorithm(string(a))
}

// UnmarshalText sets a from a configuration value, rejecting unknown algorithms.
func (a *Algorithm) UnmarshalText(b []byte) error { return unmarshalEnum(a, b) }

func (a Algorithm) check() error {
	if _, err := a.Rate(); err != nil {
		return problem.List{{Value: string(a), Message: err.Error()}}
	}
	return nil
}

// Scope is whom an endpoint rule counts (SPEC section 2, Rule scope): ScopeClient, the
// client as identified (custom key, API key, verified user, else IP); ScopeIP, the client
// address even for identified clients; ScopeGlobal, one counter for every client of the
// rule, with the rule's own limits whatever the tier. "" means ScopeClient.
type Scope string

// UnmarshalText sets s from a configuration value, rejecting unknown scopes.
func (s *Scope) UnmarshalText(b []byte) error { return unmarshalEnum(s, b) }

// UnmarshalText sets m from a configuration value, rejecting any other than the Mode
// constants with the message validation reports.
func (m *Mode) UnmarshalText(b []byte) error { return unmarshalEnum(m, b) }

// UnmarshalText sets b from a configuration value, rejecting unknown backends.
func (b *Backend) UnmarshalText(text []byte) error { return unmarshalEnum(b, text) }

// UnmarshalText sets f from a configuration value, rejecting unknown fail modes.
func (f *FailMode) UnmarshalText(b []byte) error { return unmarshalEnum(f, b) }

// check reports a Mode that is none of the constants ("" is the default, and valid).
func (m Mode) check() error { return oneOf(m, modes...) }

func (b Backend) check() error { return oneOf(b, backends...) }

func (f FailMode) check() error { return oneOf(f, failModes...) }

func (s Scope) check() error { return oneOf(s, scopes...) }

// oneOf returns nil when v is "" or one of valid, else the problem as validation words it:
// must be "a" or "b", got "x".
func oneOf[T ~string](v T, valid ...T) error {
	if v == "" {
		return nil
	}
	for _, ok := range valid {
		if v == ok {
			return nil
		}
	}
	msg := "must be "
	for i, ok := range valid {
		switch {
		case i == 0:
		case i == len(valid)-1:
			msg += " or "
		default:
			msg += ", "
		}
		msg += fmt.Sprintf("%q", string(ok))
	}
	return problem.List{{Value: string(v), Message: msg + fmt.Sprintf(", got %q", string(v))}}
}

// unmarshalEnum sets *p from text when text is one of its type's values.
func unmarshalEnum[T interface {
	~string
	check() error
}](p *T, text []byte) error {
	v := T(text)
	if err := v.check(); err != nil {
		return err
	}
	*p = v
	return nil
}
