package adaptertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// This file is the kit the adapters' own tests share beyond [Run]: framework-free helpers
// and checks that every adapter's router must pass, so that no adapter repeats them.

// Serve sends one request to h from the peer address remote, with header given as
// name, value pairs, and returns the recorded response.
func Serve(h http.Handler, method, path, remote string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// DownStore is a backend that is always unreachable: every Take and Reset fails with
// rate.ErrUnavailable.
type DownStore struct{}

// Take fails with rate.ErrUnavailable.
func (DownStore) Take(context.Context, *rate.Request, *rate.Result) error {
	return rate.ErrUnavailable
}

// Reset fails with rate.ErrUnavailable.
func (DownStore) Reset(context.Context, string, []time.Duration) error {
	return rate.ErrUnavailable
}

// Close does nothing.
func (DownStore) Close() error { return nil }

// Clock is a clock a test moves by hand, starting at [Base]. It is safe for concurrent use.
type Clock struct{ now atomic.Int64 } // Unix nanoseconds

// Base is the instant a [Clock] starts at: a multiple of one hour, so that fixed windows of
// a minute and of an hour both begin there.
var Base = time.Unix(1_764_158_400, 0)

// NewClock returns a Clock at [Base].
func NewClock() *Clock {
	c := &Clock{}
	c.now.Store(Base.UnixNano())
	return c
}

// Now returns the clock's time; pass it to core.WithClock.
func (c *Clock) Now() time.Time { return time.Unix(0, c.now.Load()) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.now.Add(int64(d)) }

// CheckPerRoute checks an adapter used on single routes and groups rather than router-wide.
// h must serve, behind the framework's recovery middleware:
//
//	GET  /open             no limiter
//	POST /compute          a limiter of its own on this route: 2 per minute
//	GET  /api/users/{id}   in a group (or sub-router) behind another limiter: 3 per minute
//	GET  /api/panic        in that group; the handler panics
func CheckPerRoute(t *testing.T, h http.Handler) {
	t.Helper()
	const client = "203.0.113.7:1"
	for range 5 {
		assert.Empty(t, Serve(h, http.MethodGet, "/open", client).Header().Get("X-RateLimit-Limit"))
	}
	assert.Equal(t, "2", Serve(h, http.MethodPost, "/compute", client).Header().Get("X-RateLimit-Limit"))
	Serve(h, http.MethodPost, "/compute", client)
	assert.Equal(t, http.StatusTooManyRequests, Serve(h, http.MethodPost, "/compute", client).Code)

	// The group's limiter is another one, with its own counters.
	rec := Serve(h, http.MethodGet, "/api/users/1", client)
	assert.Equal(t, "3", rec.Header().Get("X-RateLimit-Limit"))
	assert.Equal(t, "2", rec.Header().Get("X-RateLimit-Remaining"))
	// A panic recovered by the framework keeps the headers.
	rec = Serve(h, http.MethodGet, "/api/panic", client)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("X-RateLimit-Remaining"))
}

// CheckPanicsOnInvalidConfig checks that newWithInvalidConfig — an adapter's New called
// with Mode "loud" — panics with the *config.ValidationError naming the key.
func CheckPanicsOnInvalidConfig(t *testing.T, newWithInvalidConfig func()) {
	t.Helper()
	defer func() {
		err, _ := recover().(error)
		var invalid *config.ValidationError
		require.ErrorAs(t, err, &invalid)
		assert.ErrorContains(t, err, "mode")
	}()
	newWithInvalidConfig()
	t.Fatal("New did not panic")
}

// BenchServe serves GET /api/v1/users/42 from 8 client addresses in turn, reusing one
// response writer, for the adapters' overhead benchmarks.
func BenchServe(b *testing.B, h http.Handler) {
	reqs := make([]*http.Request, 8)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodGet, "/api/v1/users/42", nil)
		reqs[i].RemoteAddr = fmt.Sprintf("203.0.113.%d:41000", i+1)
	}
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		clear(w.header)
		h.ServeHTTP(w, reqs[i%len(reqs)])
	}
}

// discardWriter is a ResponseWriter that keeps nothing but its header map, reused.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
