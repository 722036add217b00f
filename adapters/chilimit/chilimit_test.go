package chilimit_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/chilimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// TestConformance runs the adapter suite that net/http, gin and echo pass too, with the
// middleware on the root router (r.Use), where chi has not routed the request yet.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, cfg config.Config, opts ...core.Option) http.Handler {
		r := chi.NewRouter()
		r.Use(middleware.Recoverer, chilimit.New(cfg, chilimit.WithCoreOptions(opts...), chilimit.WithSkipper(adaptertest.Skip)))
		for _, rt := range adaptertest.Routes {
			r.MethodFunc(rt.Method, rt.Path, func(w http.ResponseWriter, r *http.Request) {
				switch rt.Kind {
				case adaptertest.OK:
					d, ok := chilimit.FromContext(r.Context())
					adaptertest.WriteReply(w, rt, d, ok)
				case adaptertest.Fail:
					adaptertest.WriteFail(w)
				case adaptertest.Panic:
					panic("handler panicked") // middleware.Recoverer prints its stack to stderr
				case adaptertest.Named:
					if chilimit.Allow(w, r, adaptertest.NamedRule, adaptertest.NamedKey(r)) {
						d, ok := chilimit.FromContext(r.Context())
						adaptertest.WriteReply(w, rt, d, ok)
					}
				}
			})
		}
		return r
	})
}

// quiet keeps denial logs out of the test output.
var quiet = chilimit.WithCoreOptions(core.WithLogger(slog.New(slog.DiscardHandler)))

func perMinute(n int64) config.Config {
	return config.Config{Default: config.Limits{Limit: n, Window: time.Minute}}
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

func TestSkipper(t *testing.T) {
	t.Parallel()
	var decided bool
	r := chi.NewRouter()
	r.Use(chilimit.New(perMinute(1), quiet, chilimit.WithSkipper(func(r *http.Request) bool { return r.URL.Path == "/health" })))
	r.Get("/health", func(w http.ResponseWriter, r *http.Request) { _, decided = chilimit.FromContext(r.Context()); ok(w, r) })
	r.Get("/api", ok)

	for range 3 {
		rec := adaptertest.Serve(r, http.MethodGet, "/health", "203.0.113.7:1")
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Header().Get("X-RateLimit-Limit"))
		assert.False(t, decided)
	}
	assert.Equal(t, http.StatusOK, adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1").Code)
	assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1").Code)
}

func TestKeyFunc(t *testing.T) {
	t.Parallel()
	r := chi.NewRouter()
	r.Use(chilimit.New(perMinute(2), quiet, chilimit.WithKeyFunc(func(r *http.Request) string { return r.Header.Get("X-API-Key") })))
	r.Get("/api", func(w http.ResponseWriter, r *http.Request) {
		d, _ := chilimit.FromContext(r.Context())
		_, _ = w.Write([]byte(d.ClientID()))
	})

	// One key from two addresses shares a counter.
	assert.Equal(t, "key:k1", adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1", "X-API-Key", "k1").Body.String())
	adaptertest.Serve(r, http.MethodGet, "/api", "198.51.100.1:1", "X-API-Key", "k1")
	assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(r, http.MethodGet, "/api", "198.51.100.2:1", "X-API-Key", "k1").Code)
	// No key: the address is the identity.
	assert.Equal(t, "ip:203.0.113.7", adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1").Body.String())
}

func TestDeniedHandler(t *testing.T) {
	t.Parallel()
	handlerRan := false
	r := chi.NewRouter()
	r.Use(chilimit.New(perMinute(1), quiet, chilimit.WithDeniedHandler(func(w http.ResponseWriter, r *http.Request, d *core.Decision) {
		fromCtx, _ := chilimit.FromContext(r.Context())
		assert.Same(t, d, fromCtx)
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"slow_down":"` + d.Rule() + `"}`))
	})))
	r.Get("/api", func(w http.ResponseWriter, r *http.Request) { handlerRan = true; ok(w, r) })

	adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1")
	handlerRan = false
	rec := adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.JSONEq(t, `{"slow_down":"default"}`, rec.Body.String())
	assert.Equal(t, "60", rec.Header().Get("Retry-After"), "headers are set before the hook runs")
	assert.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
	assert.False(t, handlerRan)
}

func TestErrorHandler(t *testing.T) {
	t.Parallel()
	cfg := config.Config{FailMode: config.FailClosed}
	store := chilimit.WithCoreOptions(core.WithStore(adaptertest.DownStore{}))
	hook := chilimit.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, d *core.Decision) {
		assert.ErrorIs(t, d.Err, rate.ErrUnavailable)
		http.Error(w, "try later", http.StatusServiceUnavailable)
	})

	tests := []struct {
		name string
		opts []chilimit.Option
		body string
	}{
		{"default", nil, `"error":"rate_limit_unavailable"`},
		{"hook", []chilimit.Option{hook}, "try later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := chi.NewRouter()
			r.Use(chilimit.New(cfg, append([]chilimit.Option{quiet, store}, tt.opts...)...))
			r.Get("/api", ok)
			rec := adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1")
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Contains(t, rec.Body.String(), tt.body)
			assert.Equal(t, "1", rec.Header().Get("Retry-After"))
		})
	}
}

func TestFromContext(t *testing.T) {
	t.Parallel()
	r := chi.NewRouter()
	r.Use(chilimit.New(perMinute(5), quiet))
	r.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, found := chilimit.FromContext(r.Context())
		require.True(t, found)
		assert.Equal(t, core.Allowed, d.Outcome)
		assert.EqualValues(t, 5, d.Limit())
		assert.EqualValues(t, 4, d.Remaining())
		assert.Equal(t, "42", chi.URLParam(r, "id"), "chi's routing context survives")
		ok(w, r)
	})
	assert.Equal(t, http.StatusOK, adaptertest.Serve(r, http.MethodGet, "/users/42", "203.0.113.7:1").Code)

	_, found := chilimit.FromContext(context.Background())
	assert.False(t, found)
}

func TestPerRoute(t *testing.T) {
	t.Parallel()
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/open", ok)
	r.With(chilimit.New(perMinute(2), quiet)).Post("/compute", ok)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.New(perMinute(3), quiet))
		r.Get("/users/{id}", ok)
		r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	})

	adaptertest.CheckPerRoute(t, r)
}

// TestRouteTemplate: rules see chi's route pattern, not only the path, wherever the
// middleware is mounted, whichever parameter syntax the rule uses. An id holding an
// escaped slash is one segment to chi; only the pattern tells the limiter so.
func TestRouteTemplate(t *testing.T) {
	t.Parallel()
	for _, pattern := range []string{"/api/v1/users/{id}", "/api/v1/users/:id"} {
		cfg := config.Config{Endpoints: []config.Endpoint{{Name: "users", Pattern: pattern, Limits: config.Limits{Limit: 3, Window: time.Minute}}}}
		root, sub := chi.NewRouter(), chi.NewRouter()
		root.Use(chilimit.New(cfg, quiet))
		root.Get("/api/v1/users/{id}", ok)
		sub.Route("/api/v1", func(r chi.Router) {
			r.Use(chilimit.New(cfg, quiet))
			r.Get("/users/{id}", ok)
		})
		for name, r := range map[string]http.Handler{"root": root, "sub-router": sub} {
			for _, path := range []string{"/api/v1/users/1", "/api/v1/users/a%2Fb"} {
				rec := adaptertest.Serve(r, http.MethodGet, path, "203.0.113.7:1")
				assert.Equal(t, http.StatusOK, rec.Code)
				assert.Equal(t, `"users";q=3;w=60`, rec.Header().Get("RateLimit-Policy"), "%s %s %s", pattern, name, path)
			}
			adaptertest.Serve(r, http.MethodGet, "/api/v1/users/2", "203.0.113.7:1")
			assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(r, http.MethodGet, "/api/v1/users/3", "203.0.113.7:1").Code)
		}
	}
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	t.Parallel()
	adaptertest.CheckPanicsOnInvalidConfig(t, func() { chilimit.New(config.Config{Mode: "loud"}) })
}
