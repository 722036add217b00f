package ginlimit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ratewarden/ratewarden/adapters/ginlimit"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// BenchmarkMiddleware measures what the middleware adds to a request: "bare" serves a
// route without it, "limited" the same route behind it (memory backend, a limit no
// client reaches, 8 client addresses). The overhead is limited minus bare.
func BenchmarkMiddleware(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	handler := func(c *gin.Context) { c.Status(http.StatusOK) }
	cfg := config.Config{Default: config.Limits{Limit: 50_000_000, Window: time.Minute}}

	bare := gin.New()
	bare.GET("/api/v1/users/:id", handler)
	limited := gin.New()
	limited.Use(ginlimit.New(cfg, quiet))
	limited.GET("/api/v1/users/:id", handler)

	b.Run("bare", func(b *testing.B) { adaptertest.BenchServe(b, bare) })
	b.Run("limited", func(b *testing.B) { adaptertest.BenchServe(b, limited) })
}
