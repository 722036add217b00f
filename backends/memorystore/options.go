package memorystore

import (
	"log/slog"
	"time"

	"github.com/ratewarden/ratewarden/core/backend"
)

// Option configures a [Store].
type Option interface{ apply(*options) }

type options struct {
	now      func() time.Time
	logger   *slog.Logger
	observer backend.Observer
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithClock sets the clock the sweeper and the eviction log use (default time.Now).
// Decisions use the time in each request instead.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}

// WithLogger sets the logger of the warning a full store writes, at most once a minute,
// when it evicts live keys (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}

// WithObserver reports the store's keys and evictions to o when it implements
// [backend.MemoryObserver] (adapters/promlimit's Observer does); other observers are ignored.
func WithObserver(o backend.Observer) Option {
	return optionFunc(func(opts *options) { opts.observer = o })
}
