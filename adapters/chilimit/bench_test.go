package chilimit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ratewarden/ratewarden/adapters/chilimit"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

// BenchmarkMiddleware measures what the middleware adds to a request: "bare" serves a
// route without it, "limited" the same route behind it (memory backend, a limit no
// client reaches, 8 client addresses). The overhead is limited minus bare.
func BenchmarkMiddleware(b *testing.B) {
	handler := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	cfg := config.Config{Default: config.Limits{Limit: 50_000_000, Window: time.Minute}}

	bare := chi.NewRouter()
	bare.Get("/api/v1/users/{id}", handler)
	limited := chi.NewRouter()
	limited.Use(chilimit.New(cfg, quiet))
	limited.Get("/api/v1/users/{id}", handler)

	b.Run("bare", func(b *testing.B) { adaptertest.BenchServe(b, bare) })
	b.Run("limited", func(b *testing.B) { adaptertest.BenchServe(b, limited) })
}
