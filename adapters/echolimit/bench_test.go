package echolimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ratewarden/ratewarden/adapters/echolimit"
	"github.com/ratewarden/ratewarden/core"
)

// BenchmarkMiddleware measures what the middleware adds to a request: "bare" serves a
// route without it, "limited" the same route behind it (memory backend, a limit no
// client reaches, 8 client addresses). The overhead is limited minus bare.
func BenchmarkMiddleware(b *testing.B) {
	handler := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	cfg := core.Config{Default: core.Limits{Limit: 100_000_000, Window: time.Minute}}

	bare := echo.New()
	bare.GET("/api/v1/users/:id", handler)
	limited := echo.New()
	limited.Use(echolimit.New(cfg, quiet))
	limited.GET("/api/v1/users/:id", handler)

	b.Run("bare", func(b *testing.B) { benchServe(b, bare) })
	b.Run("limited", func(b *testing.B) { benchServe(b, limited) })
}

// benchServe serves GET /api/v1/users/42 from 8 client addresses in turn.
func benchServe(b *testing.B, h http.Handler) {
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
