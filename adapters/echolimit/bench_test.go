package echolimit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ratewarden/ratewarden/adapters/echolimit"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// BenchmarkMiddleware measures what the middleware adds to a request: "bare" serves a
// route without it, "limited" the same route behind it (memory backend, a limit no
// client reaches, 8 client addresses). The overhead is limited minus bare.
func BenchmarkMiddleware(b *testing.B) {
	handler := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	cfg := config.Config{Default: config.Limits{Limit: 50_000_000, Window: time.Minute}}

	bare := echo.New()
	bare.GET("/api/v1/users/:id", handler)
	limited := echo.New()
	limited.Use(echolimit.New(cfg, quiet))
	limited.GET("/api/v1/users/:id", handler)

	b.Run("bare", func(b *testing.B) { adaptertest.BenchServe(b, bare) })
	b.Run("limited", func(b *testing.B) { adaptertest.BenchServe(b, limited) })
}
