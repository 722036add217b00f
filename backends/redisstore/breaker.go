package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/sony/gobreaker/v2"
)

// breaker wraps a gobreaker circuit breaker: it opens after failureThreshold consecutive
// failed decisions, fails fast while open, and lets one probe through after openTimeout
// (half-open); the probe's success closes it, its failure opens it again.
type breaker struct {
	cb          *gobreaker.CircuitBreaker[struct{}]
	openTimeout time.Duration
	epoch       time.Time    // monotonic origin of openedAt
	openedAt    atomic.Int64 // ns since epoch of the last transition to open
}

// newBreaker returns a closed breaker. An error exclude reports (nil: none), like a caller's
// cancellation, counts neither as a failure nor as a success.
func newBreaker(cfg config.CircuitBreakerConfig, logger *slog.Logger, exclude func(error) bool) *breaker {
	b := &breaker{openTimeout: cfg.OpenTimeout, epoch: time.Now()}
	threshold := uint32(max(1, cfg.FailureThreshold))
	b.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1, // one probe when half-open
		Timeout:     cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		// A request its caller canceled says nothing about Redis.
		IsExcluded: func(err error) bool {
			return errors.Is(err, context.Canceled) || (exclude != nil && exclude(err))
		},
		// Called with the breaker's lock held: it must not call the breaker.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.openedAt.Store(int64(time.Since(b.epoch)))
			}
			level := slog.LevelWarn
			if to == gobreaker.StateClosed {
				level = slog.LevelInfo
			}
			logger.LogAttrs(context.Background(), level, "redis_circuit_breaker",
				slog.String("from", from.String()), slog.String("to", to.String()))
		},
	})
	return b
}

// failing reports whether the breaker is open or probing, or its last call failed: the
// Redis behind it may be down or hung.
func (b *breaker) failing() bool {
	return !b.closed() || b.cb.Counts().ConsecutiveFailures > 0
}

// closed reports whether the breaker lets every call through.
func (b *breaker) closed() bool { return b.cb.State() == gobreaker.StateClosed }

// do runs f unless the breaker is open. While it is open it returns an *Error of kind
// circuit_open right away.
func (b *breaker) do(f func() error) error {
	_, err := b.cb.Execute(func() (struct{}, error) { return struct{}{}, f() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &Error{Kind: rate.KindCircuitOpen, Err: ErrCircuitOpen, retryAfter: b.untilProbe()}
	}
	return err
}

// untilProbe is the time left before an open breaker lets a probe through (zero when a
// probe is already due or in flight).
func (b *breaker) untilProbe() time.Duration {
	opened := time.Duration(b.openedAt.Load())
	return max(0, opened+b.openTimeout-time.Since(b.epoch))
}
