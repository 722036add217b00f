package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// ErrCircuitOpen is the cause of an [Error] of kind [rate.KindCircuitOpen]: the breaker is
// open, or half-open with its probe in flight, so the store did not ask Redis.
var ErrCircuitOpen = errors.New("ratewarden: redis circuit breaker open")

// Error is the error [Store.Take] returns when Redis could not decide (with fail_mode
// "open" or "closed"; "local" decides in-process instead). It matches
// [rate.ErrUnavailable] and its cause with errors.Is. Its message is for logs: the core
// never sends it to clients.
type Error struct {
	// Kind is the kind of failure: one of the rate.Kind constants.
	Kind rate.ErrorKind
	// Err is the cause: a go-redis or network error, or ErrCircuitOpen.
	Err error

	retryAfter time.Duration
}

// Error returns "ratewarden: redis <kind>: <cause>".
func (e *Error) Error() string { return "ratewarden: redis " + string(e.Kind) + ": " + e.Err.Error() }

// Unwrap returns rate.ErrUnavailable and the cause.
func (e *Error) Unwrap() []error { return []error{rate.ErrUnavailable, e.Err} }

// RetryAfter implements rate.RetryHinter: while the breaker is open, the time until it
// lets a probe through, so that 503 answers carry a useful Retry-After; zero otherwise
// (the core then uses one second).
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// classify returns the kind of a failed decision's error.
func classify(err error) rate.ErrorKind {
	var rerr redis.Error
	switch {
	case errors.Is(err, ErrCircuitOpen), errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return rate.KindCircuitOpen
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrPoolTimeout), isNetTimeout(err):
		return rate.KindTimeout
	case errors.Is(err, context.Canceled):
		return rate.KindOther
	case errors.As(err, &rerr):
		if unavailableReply(err) {
			return rate.KindConnection
		}
		return rate.KindScript
	case isConnection(err):
		return rate.KindConnection
	}
	return rate.KindOther
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// unavailableReply reports Redis error replies that mean "not now, not here" rather than
// a problem with the script: a server loading its data set, a replica (after a failover),
// a cluster or master down, too many clients.
func unavailableReply(err error) bool {
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsClusterDownError(err) ||
		redis.IsMasterDownError(err) || redis.IsTryAgainError(err) || redis.IsMaxClientsError(err) ||
		redis.IsNoReplicasError(err)
}

func isConnection(err error) bool {
	var oe *net.OpError
	switch {
	case errors.As(err, &oe),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolExhausted):
		return true
	}
	// go-redis reports these without a sentinel error value.
	msg := err.Error()
	return strings.Contains(msg, "sentinels specified in configuration are unreachable") ||
		strings.Contains(msg, "cluster has no nodes") ||
		strings.Contains(msg, "connection unusable")
}
