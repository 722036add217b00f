package ginlimit_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/ginlimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

func init() { gin.SetMode(gin.TestMode) }

// TestConformance runs the adapter suite that net/http, echo and chi pass too.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, cfg config.Config, opts ...core.Option) http.Handler {
		r := gin.New()
		r.HandleMethodNotAllowed = true // gin answers 404 instead of 405 otherwise
		r.Use(gin.RecoveryWithWriter(io.Discard), ginlimit.New(cfg, ginlimit.WithCoreOptions(opts...),
			ginlimit.WithSkipper(func(c *gin.Context) bool { return adaptertest.Skip(c.Request) })))
		for _, rt := range adaptertest.Routes {
			r.Handle(rt.Method, rt.ColonPath(), func(c *gin.Context) {
				switch rt.Kind {
				case adaptertest.OK:
					d, ok := ginlimit.FromContext(c)
					adaptertest.WriteReply(c.Writer, rt, d, ok)
				case adaptertest.Fail:
					c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal"})
				case adaptertest.Panic:
					panic("handler panicked")
				case adaptertest.Named:
					if ginlimit.Allow(c, adaptertest.NamedRule, adaptertest.NamedKey(c.Request)) {
						d, ok := ginlimit.FromContext(c)
						adaptertest.WriteReply(c.Writer, rt, d, ok)
					}
				}
			})
		}
		return r
	})
}

// quiet keeps denial logs out of the test output.
var quiet = ginlimit.WithCoreOptions(core.WithLogger(slog.New(slog.DiscardHandler)))

func perMinute(n int64) config.Config {
	return config.Config{Default: config.Limits{Limit: n, Window: time.Minute}}
}

func ok(c *gin.Context) { c.String(http.StatusOK, "ok") }

func TestSkipper(t *testing.T) {
	t.Parallel()
	var decided bool
	r := gin.New()
	r.Use(ginlimit.New(perMinute(1), quiet, ginlimit.WithSkipper(func(c *gin.Context) bool { return c.FullPath() == "/health" })))
	r.GET("/health", func(c *gin.Context) {
		var d *core.Decision
		d, decided = ginlimit.FromContext(c)
		c.String(http.StatusOK, "%d left", d.Remaining()) // nil-safe: 0
	})
	r.GET("/api", ok)

	for range 3 {
		rec := adaptertest.Serve(r, http.MethodGet, "/health", "203.0.113.7:1")
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "0 left", rec.Body.String())
		assert.Empty(t, rec.Header().Get("X-RateLimit-Limit"))
		assert.False(t, decided)
	}
	assert.Equal(t, http.StatusOK, adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1").Code)
	assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1").Code)
}

func TestKeyFunc(t *testing.T) {
	t.Parallel()
	r := gin.New()
	r.Use(ginlimit.New(perMinute(2), quiet, ginlimit.WithKeyFunc(func(c *gin.Context) string { return c.GetHeader("X-API-Key") })))
	r.GET("/api", func(c *gin.Context) {
		d, _ := ginlimit.FromContext(c)
		c.String(http.StatusOK, d.ClientID())
	})

	// One key from two addresses shares a counter.
	rec := adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1", "X-API-Key", "k1")
	assert.Equal(t, "key:k1", rec.Body.String())
	adaptertest.Serve(r, http.MethodGet, "/api", "198.51.100.1:1", "X-API-Key", "k1")
	assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(r, http.MethodGet, "/api", "198.51.100.2:1", "X-API-Key", "k1").Code)
	// No key: the address is the identity.
	rec = adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1")
	assert.Equal(t, "ip:203.0.113.7", rec.Body.String())
}

func TestDeniedHandler(t *testing.T) {
	t.Parallel()
	handlerRan := false
	r := gin.New()
	r.Use(ginlimit.New(perMinute(1), quiet, ginlimit.WithDeniedHandler(func(c *gin.Context, d *core.Decision) {
		c.JSON(http.StatusTooManyRequests, gin.H{"slow_down": d.Rule()})
	})))
	r.GET("/api", func(c *gin.Context) { handlerRan = true; ok(c) })

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
	store := ginlimit.WithCoreOptions(core.WithStore(adaptertest.DownStore{}))
	hook := ginlimit.WithErrorHandler(func(c *gin.Context, d *core.Decision) {
		assert.ErrorIs(t, d.Err, rate.ErrUnavailable)
		c.String(http.StatusServiceUnavailable, "try later")
	})

	tests := []struct {
		name string
		opts []ginlimit.Option
		body string
	}{
		{"default", nil, `"error":"rate_limit_unavailable"`},
		{"hook", []ginlimit.Option{hook}, "try later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gin.New()
			r.Use(ginlimit.New(cfg, append([]ginlimit.Option{quiet, store}, tt.opts...)...))
			r.GET("/api", ok)
			rec := adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1")
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Contains(t, rec.Body.String(), tt.body)
			assert.Equal(t, "1", rec.Header().Get("Retry-After"))
		})
	}
}

func TestFromContext(t *testing.T) {
	t.Parallel()
	r := gin.New()
	r.Use(ginlimit.New(perMinute(5), quiet))
	r.GET("/users/:id", func(c *gin.Context) {
		d, found := ginlimit.FromContext(c)
		require.True(t, found)
		assert.Equal(t, core.Allowed, d.Outcome)
		assert.EqualValues(t, 5, d.Limit())
		assert.EqualValues(t, 4, d.Remaining())
		// The decision is in the request context too, for code that only sees *http.Request.
		d2, _ := core.FromContext(c.Request.Context())
		assert.Same(t, d, d2)
		ok(c)
	})
	assert.Equal(t, http.StatusOK, adaptertest.Serve(r, http.MethodGet, "/users/42", "203.0.113.7:1").Code)

	_, found := ginlimit.FromContext(&gin.Context{})
	assert.False(t, found)
}

func TestPerRoute(t *testing.T) {
	t.Parallel()
	r := gin.New()
	r.Use(gin.RecoveryWithWriter(io.Discard))
	r.GET("/open", ok)
	r.POST("/compute", ginlimit.New(perMinute(2), quiet), ok)
	api := r.Group("/api", ginlimit.New(perMinute(3), quiet))
	api.GET("/users/:id", ok)
	api.GET("/panic", func(*gin.Context) { panic("boom") })

	adaptertest.CheckPerRoute(t, r)
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	t.Parallel()
	adaptertest.CheckPanicsOnInvalidConfig(t, func() { ginlimit.New(config.Config{Mode: "loud"}) })
}

// TestRouteTemplate: rules see gin's route template, not only the path. With UseRawPath,
// an id holding an escaped slash is one segment to gin; only the template tells the
// limiter so.
func TestRouteTemplate(t *testing.T) {
	t.Parallel()
	for _, pattern := range []string{"/api/v1/users/{id}", "/api/v1/users/:id"} {
		cfg := config.Config{Endpoints: []config.Endpoint{{Name: "users", Pattern: pattern, Limits: config.Limits{Limit: 3, Window: time.Minute}}}}
		r := gin.New()
		r.UseRawPath = true
		r.Use(ginlimit.New(cfg, quiet))
		r.GET("/api/v1/users/:id", ok)
		for _, path := range []string{"/api/v1/users/1", "/api/v1/users/a%2Fb"} {
			rec := adaptertest.Serve(r, http.MethodGet, path, "203.0.113.7:1")
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, `"users";q=3;w=60`, rec.Header().Get("RateLimit-Policy"), "%s %s", pattern, path)
		}
		adaptertest.Serve(r, http.MethodGet, "/api/v1/users/2", "203.0.113.7:1")
		assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(r, http.MethodGet, "/api/v1/users/3", "203.0.113.7:1").Code)
	}
}

// A nil hook is the default answer, also when it replaces an earlier hook.
func TestNilHooksAnswerByDefault(t *testing.T) {
	t.Parallel()
	r := gin.New()
	r.Use(ginlimit.New(perMinute(1), quiet,
		ginlimit.WithDeniedHandler(func(c *gin.Context, _ *core.Decision) { c.String(http.StatusTeapot, "replaced") }),
		ginlimit.WithDeniedHandler(nil), ginlimit.WithErrorHandler(nil)))
	r.GET("/api", ok)
	adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1")
	rec := adaptertest.Serve(r, http.MethodGet, "/api", "203.0.113.7:1")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Contains(t, rec.Body.String(), `"error":"rate_limit_exceeded"`)
}

// An engine with UseRawPath routes "/users/m%65" with "/users/:id", not "/users/me":
// WithPathView(core.PathSegmentsRaw) has the rules read it so, and the tight {id} rule
// refuses it; gin's default view reads the decoded "/users/me".
func TestPathViewOfAnEngineRoutingRawPaths(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Endpoints: []config.Endpoint{
		{Name: "me", Pattern: "/api/v1/users/me", Limits: config.Limits{Limit: 100, Window: time.Minute}},
		{Name: "users", Pattern: "/api/v1/users/{id}", Limits: config.Limits{Limit: 2, Window: time.Minute}},
	}}
	engine := func(opts ...ginlimit.Option) *gin.Engine {
		r := gin.New()
		r.UseRawPath = true
		r.Use(ginlimit.New(cfg, append([]ginlimit.Option{quiet}, opts...)...))
		r.GET("/api/v1/users/me", ok)
		r.GET("/api/v1/users/:id", ok)
		return r
	}
	raw := engine(ginlimit.WithPathView(core.PathSegmentsRaw))
	for _, path := range []string{"/api/v1/users/m%65", "/api/v1/users/%6De"} {
		rec := adaptertest.Serve(raw, http.MethodGet, path, "203.0.113.7:1")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, `"users";q=2;w=60`, rec.Header().Get("RateLimit-Policy"), path)
	}
	assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(raw, http.MethodGet, "/api/v1/users/m%65", "203.0.113.7:1").Code)

	rec := adaptertest.Serve(engine(), http.MethodGet, "/api/v1/users/m%65", "203.0.113.7:1")
	assert.Equal(t, `"me";q=100;w=60`, rec.Header().Get("RateLimit-Policy"), "gin's default view")
}
