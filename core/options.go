package core

import (
	"log/slog"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// Option configures a [Limiter] beyond its [config.Config]: the parts that are code, not settings.
type Option interface{ apply(*options) }

type options struct {
	store    rate.Store
	now      func() time.Time
	logger   *slog.Logger
	observer Observer
	name     string

	keyLookup KeyLookup
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithStore makes the Limiter use s instead of building the configured backend. The
// caller keeps ownership: [Limiter.Close] does not close s.
func WithStore(s rate.Store) Option { return optionFunc(func(o *options) { o.store = s }) }

// WithClock sets the clock decisions are made with (default: a [CoarseClock] of the
// Limiter's own, time.Now read once a millisecond).
// Tests pass a fixed or stepped clock instead of sleeping.
func WithClock(now func() time.Time) Option { return optionFunc(func(o *options) { o.now = now }) }

// WithLogger sets the logger for denials, backend errors and reloads (default slog.Default()).
// Every denial is one record at warn (rate_limit_exceeded), as operators search for them
// by client: under a flood of denied requests, size the log pipeline for it or filter the
// level in the handler. Backend errors are throttled to one record per second per kind.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// WithObserver sets an observer called for every decision and backend call, such as the
// Prometheus observer in adapters/promlimit.
func WithObserver(obs Observer) Option { return optionFunc(func(o *options) { o.observer = obs }) }

// WithName names a Limiter, for telling stacked limiters apart (docs/adapters.md): its
// policy names get the prefix "<name>." in the rate-limit headers, the 429 body, logs and
// metrics ("search.default", "search.compute"), its log records carry "limiter": name,
// and its counters are its own even when it
// shares a store (such as one Redis) with other limiters. The default is no name, and no
// prefix. A name must match ^[a-zA-Z0-9_.-]+$; [New] reports any other.
func WithName(name string) Option { return optionFunc(func(o *options) { o.name = name }) }
