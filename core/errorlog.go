package core

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// ErrorLog writes backend errors at error level, at most once per second for each kind
// ("timeout", "connection", …), so that an outage produces a steady trickle of records
// rather than one per request. Each record counts the errors of its kind it stood for.
// An ErrorLog is safe for concurrent use; stores build one from [BackendEnv].
type ErrorLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu    sync.Mutex
	kinds map[string]*errorKindState
}

type errorKindState struct {
	last       time.Time
	suppressed int
}

// NewErrorLog returns an ErrorLog writing to logger with the clock now (time.Now if nil).
func NewErrorLog(logger *slog.Logger, now func() time.Time) *ErrorLog {
	if now == nil {
		now = time.Now
	}
	return &ErrorLog{logger: logger, now: now, kinds: map[string]*errorKindState{}}
}

// Log records an error of the given kind; it writes a record with msg, the kind, the
// error, attrs and the number of errors suppressed since the last record of that kind,
// unless one was written less than a second ago.
func (l *ErrorLog) Log(msg, kind string, err error, attrs ...slog.Attr) {
	now := l.now()
	l.mu.Lock()
	st := l.kinds[kind]
	if st == nil {
		st = &errorKindState{}
		l.kinds[kind] = st
	}
	if !st.last.IsZero() && now.Sub(st.last) < time.Second {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()
	attrs = append(attrs, slog.String("kind", kind), slog.String("error", err.Error()), slog.Int("suppressed", suppressed))
	l.logger.LogAttrs(context.Background(), slog.LevelError, msg, attrs...)
}
