package redisstore

import (
	"log/slog"
	"time"

	"github.com/ratewarden/ratewarden/core/backend"
)

// Option configures a [Store] beyond its [config.Config]: the parts that are code, not
// settings.
type Option interface{ apply(*options) }

type options struct {
	logger      *slog.Logger
	observer    backend.Observer
	now         func() time.Time
	requestTime bool
	functions   bool
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithFunctions makes the Store decide by FCALL of a Redis Function library (Redis ≥ 7)
// instead of EVALSHA of a script: the same Lua code and answers, a fifth to a quarter less
// of Redis's CPU per call (docs/redis.md, "Redis Functions"), at the price of a library
// loaded into Redis (FUNCTION LIST shows it), an ACL allowing FCALL and FUNCTION LOAD, and
// an FCALL refused outright under maxmemory with noeviction. Off by default: SPEC section 5
// specifies EVALSHA, and operators see what it loads. Where Functions are unavailable
// (before Redis 7, an ACL without them) the Store falls back to EVALSHA and logs it once;
// a Ring always uses EVALSHA.
func WithFunctions() Option {
	return optionFunc(func(o *options) { o.functions = true })
}

// WithLogger sets the logger for backend errors (at most one record per second per kind)
// and circuit breaker transitions. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}

// WithObserver sets the observer told about every Redis call: its duration and, for a
// failure, its kind (see the Kind constants). The default is none.
func WithObserver(obs backend.Observer) Option {
	return optionFunc(func(o *options) { o.observer = obs })
}

// WithClock sets the clock of the error log's rate limiting, of the in-process fallback
// store's sweeper and of the recheck of Redis Functions where they were unavailable
// (default time.Now). Decisions never use it: Redis decides with its own TIME, and the
// local cache and fallback with [rate.Request.Now].
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}

// WithRequestTime is a test mode: the scripts decide with [rate.Request.Now], sent as an
// argument, instead of the Redis server's TIME, so that tests (the storetest conformance
// suite) can inject instants instead of sleeping. Production never uses it: with several
// application hosts, only the Redis clock is one clock. Keys still expire by the server's
// clock, which injected instants do not follow, so in this mode every TTL gets an extra
// hour: a state that should have expired is kept and aged by the scripts instead, which
// decides the same.
func WithRequestTime() Option {
	return optionFunc(func(o *options) { o.requestTime = true })
}
