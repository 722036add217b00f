package backend

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// ThrottledLog writes at most one record per interval for each kind of event, so that a
// storm of events — a Redis outage, a memory store evicting live keys — produces a steady
// trickle of records rather than one per request. Each record says how many events of its
// kind it stood for since the last one ("suppressed"). A ThrottledLog is safe for
// concurrent use.
type ThrottledLog struct {
	logger *slog.Logger
	level  slog.Level
	every  time.Duration
	now    func() time.Time

	mu    sync.Mutex
	kinds map[string]*throttledKind
}

type throttledKind struct {
	last       time.Time
	suppressed int
}

// NewThrottledLog returns a ThrottledLog writing to logger at level, at most once every
// interval per kind, with the clock now (time.Now if nil).
func NewThrottledLog(logger *slog.Logger, level slog.Level, every time.Duration, now func() time.Time) *ThrottledLog {
	if now == nil {
		now = time.Now
	}
	return &ThrottledLog{logger: logger, level: level, every: every, now: now, kinds: map[string]*throttledKind{}}
}

// Log records an event of the given kind; it writes a record with msg, attrs, the kind and
// the number of events suppressed since the last record of that kind, unless one was
// written less than the interval ago.
func (l *ThrottledLog) Log(ctx context.Context, msg, kind string, attrs ...slog.Attr) {
	now := l.now()
	l.mu.Lock()
	st := l.kinds[kind]
	if st == nil {
		st = &throttledKind{}
		l.kinds[kind] = st
	}
	if !st.last.IsZero() && now.Sub(st.last) < l.every {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()
	attrs = append(attrs, slog.String("kind", kind), slog.Int("suppressed", suppressed))
	l.logger.LogAttrs(ctx, l.level, msg, attrs...)
}

// ErrorLog writes backend errors at error level, at most once per second for each kind
// ("timeout", "connection", …). It is safe for concurrent use; stores build one from
// the Logger and clock of their [Env].
type ErrorLog struct{ log *ThrottledLog }

// NewErrorLog returns an ErrorLog writing to logger with the clock now (time.Now if nil).
func NewErrorLog(logger *slog.Logger, now func() time.Time) *ErrorLog {
	return &ErrorLog{NewThrottledLog(logger, slog.LevelError, time.Second, now)}
}

// Log records an error of the given kind, as [ThrottledLog.Log] does, with the error. ctx
// is the context of the request that met the error.
func (l *ErrorLog) Log(ctx context.Context, msg string, kind rate.ErrorKind, err error, attrs ...slog.Attr) {
	l.log.Log(ctx, msg, string(kind), append(attrs, slog.String("error", err.Error()))...)
}
