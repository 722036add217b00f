package memorystore

import "time"

// Option configures a [Store].
type Option interface{ apply(*options) }

type options struct {
	now func() time.Time
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithClock sets the clock the sweeper uses (default time.Now). Decisions use the time in
// each request instead.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}
