package echolimit_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/adapters/echolimit"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// recoverer is echo's recovery middleware without the stack dump.
var recoverer = middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true})

// TestConformance runs the adapter suite that net/http, gin and chi pass too.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, cfg config.Config, opts ...core.Option) http.Handler {
		e := echo.New()
		e.Use(recoverer, echolimit.New(cfg, echolimit.WithCoreOptions(opts...),
			echolimit.WithSkipper(func(c echo.Context) bool { return adaptertest.Skip(c.Request()) })))
		for _, rt := range adaptertest.Routes {
			e.Add(rt.Method, rt.ColonPath(), func(c echo.Context) error {
				switch rt.Kind {
				case adaptertest.Fail:
					return errors.New("handler failed") // echo's HTTPErrorHandler answers 500
				case adaptertest.Panic:
					panic("handler panicked")
				case adaptertest.Named:
					if !echolimit.Allow(c, adaptertest.NamedRule, adaptertest.NamedKey(c.Request())) {
						return nil
					}
				}
				d, ok := echolimit.FromContext(c)
				adaptertest.WriteReply(c.Response(), rt, d, ok)
				return nil
			})
		}
		return e
	})
}

// quiet keeps denial logs out of the test output.
var quiet = echolimit.WithCoreOptions(core.WithLogger(slog.New(slog.DiscardHandler)))

func perMinute(n int64) config.Config {
	return config.Config{Default: config.Limits{Limit: n, Window: time.Minute}}
}

func ok(c echo.Context) error { return c.String(http.StatusOK, "ok") }

func TestSkipper(t *testing.T) {
	t.Parallel()
	var decided bool
	e := echo.New()
	e.Use(echolimit.New(perMinute(1), quiet, echolimit.WithSkipper(func(c echo.Context) bool { return c.Path() == "/health" })))
	e.GET("/health", func(c echo.Context) error { _, decided = echolimit.FromContext(c); return ok(c) })
	e.GET("/api", ok)

	for range 3 {
		rec := adaptertest.Serve(e, http.MethodGet, "/health", "203.0.113.7:1")
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Header().Get("X-RateLimit-Limit"))
		assert.False(t, decided)
	}
	assert.Equal(t, http.StatusOK, adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1").Code)
	assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1").Code)
}

func TestKeyFunc(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.Use(echolimit.New(perMinute(2), quiet, echolimit.WithKeyFunc(func(c echo.Context) string { return c.Request().Header.Get("X-API-Key") })))
	e.GET("/api", func(c echo.Context) error {
		d, _ := echolimit.FromContext(c)
		return c.String(http.StatusOK, d.ClientID())
	})

	// One key from two addresses shares a counter.
	assert.Equal(t, "key:k1", adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1", "X-API-Key", "k1").Body.String())
	adaptertest.Serve(e, http.MethodGet, "/api", "198.51.100.1:1", "X-API-Key", "k1")
	assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(e, http.MethodGet, "/api", "198.51.100.2:1", "X-API-Key", "k1").Code)
	// No key: the address is the identity.
	assert.Equal(t, "ip:203.0.113.7", adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1").Body.String())
}

func TestDeniedHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		hook   func(echo.Context, *core.Decision) error
		status int
		body   string
	}{
		{
			name: "writes its own response",
			hook: func(c echo.Context, d *core.Decision) error {
				return c.JSON(http.StatusTooManyRequests, map[string]string{"slow_down": d.Rule()})
			},
			status: http.StatusTooManyRequests, body: `{"slow_down":"default"}`,
		},
		{
			name: "returns an error for the HTTPErrorHandler",
			hook: func(echo.Context, *core.Decision) error {
				return echo.NewHTTPError(http.StatusTooManyRequests, "slow down")
			},
			status: http.StatusTooManyRequests, body: `{"error":"slow down"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			handlerRan := false
			e := echo.New()
			e.HTTPErrorHandler = func(err error, c echo.Context) {
				var he *echo.HTTPError
				if errors.As(err, &he) {
					_ = c.JSON(he.Code, map[string]any{"error": he.Message})
				}
			}
			e.Use(echolimit.New(perMinute(1), quiet, echolimit.WithDeniedHandler(tt.hook)))
			e.GET("/api", func(c echo.Context) error { handlerRan = true; return ok(c) })

			adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1")
			handlerRan = false
			rec := adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1")
			assert.Equal(t, tt.status, rec.Code)
			assert.JSONEq(t, tt.body, rec.Body.String())
			assert.Equal(t, "60", rec.Header().Get("Retry-After"), "headers are set before the hook runs")
			assert.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
			assert.False(t, handlerRan)
		})
	}
}

func TestErrorHandler(t *testing.T) {
	t.Parallel()
	cfg := config.Config{FailMode: config.FailClosed}
	store := echolimit.WithCoreOptions(core.WithStore(adaptertest.DownStore{}))
	hook := echolimit.WithErrorHandler(func(c echo.Context, d *core.Decision) error {
		assert.ErrorIs(t, d.Err, rate.ErrUnavailable)
		return c.String(http.StatusServiceUnavailable, "try later")
	})

	tests := []struct {
		name string
		opts []echolimit.Option
		body string
	}{
		{"default", nil, `"error":"rate_limit_unavailable"`},
		{"hook", []echolimit.Option{hook}, "try later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			e.Use(echolimit.New(cfg, append([]echolimit.Option{quiet, store}, tt.opts...)...))
			e.GET("/api", ok)
			rec := adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1")
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Contains(t, rec.Body.String(), tt.body)
			assert.Equal(t, "1", rec.Header().Get("Retry-After"))
		})
	}
}

// TestHTTPErrorHandler: a custom HTTPErrorHandler sees the handler's errors, not the
// limiter's default 429, and its responses carry the rate-limit headers.
func TestHTTPErrorHandler(t *testing.T) {
	t.Parallel()
	var seen []error
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		seen = append(seen, err)
		_ = c.String(http.StatusTeapot, "custom")
	}
	e.Use(echolimit.New(perMinute(2), quiet))
	e.GET("/fail", func(echo.Context) error { return errors.New("downstream") })

	rec := adaptertest.Serve(e, http.MethodGet, "/fail", "203.0.113.7:1")
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("X-RateLimit-Remaining"))
	rec = adaptertest.Serve(e, http.MethodGet, "/no-such-route", "203.0.113.7:1")
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
	rec = adaptertest.Serve(e, http.MethodGet, "/fail", "203.0.113.7:1")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Contains(t, rec.Body.String(), `"error":"rate_limit_exceeded"`)

	require.Len(t, seen, 2)
	assert.EqualError(t, seen[0], "downstream")
	assert.ErrorIs(t, seen[1], echo.ErrNotFound)
}

func TestFromContext(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.Use(echolimit.New(perMinute(5), quiet))
	e.GET("/users/:id", func(c echo.Context) error {
		d, found := echolimit.FromContext(c)
		require.True(t, found)
		assert.Equal(t, core.Allowed, d.Outcome)
		assert.EqualValues(t, 5, d.Limit())
		assert.EqualValues(t, 4, d.Remaining())
		// The decision is in the request context too, for code that only sees *http.Request.
		d2, _ := core.FromContext(c.Request().Context())
		assert.Same(t, d, d2)
		return ok(c)
	})
	assert.Equal(t, http.StatusOK, adaptertest.Serve(e, http.MethodGet, "/users/42", "203.0.113.7:1").Code)

	_, found := echolimit.FromContext(echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), nil))
	assert.False(t, found)
}

func TestPerRoute(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.Use(recoverer)
	e.GET("/open", ok)
	e.POST("/compute", ok, echolimit.New(perMinute(2), quiet))
	api := e.Group("/api", echolimit.New(perMinute(3), quiet))
	api.GET("/users/:id", ok)
	api.GET("/panic", func(echo.Context) error { panic("boom") })

	adaptertest.CheckPerRoute(t, e)
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	t.Parallel()
	adaptertest.CheckPanicsOnInvalidConfig(t, func() { echolimit.New(config.Config{Mode: "loud"}) })
}

// TestRouteTemplate: rules see echo's route template, not only the path. Echo's last
// parameter takes the rest of the path ("/users/1/x" is the route "/users/:id"); only
// the template tells the limiter so.
func TestRouteTemplate(t *testing.T) {
	t.Parallel()
	for _, pattern := range []string{"/api/v1/users/{id}", "/api/v1/users/:id"} {
		cfg := config.Config{Endpoints: []config.Endpoint{{Name: "users", Pattern: pattern, Limits: config.Limits{Limit: 3, Window: time.Minute}}}}
		e := echo.New()
		e.Use(echolimit.New(cfg, quiet))
		e.GET("/api/v1/users/:id", ok)
		for _, path := range []string{"/api/v1/users/1", "/api/v1/users/1/x"} {
			rec := adaptertest.Serve(e, http.MethodGet, path, "203.0.113.7:1")
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, `"users";q=3;w=60`, rec.Header().Get("RateLimit-Policy"), "%s %s", pattern, path)
		}
		adaptertest.Serve(e, http.MethodGet, "/api/v1/users/2", "203.0.113.7:1")
		assert.Equal(t, http.StatusTooManyRequests, adaptertest.Serve(e, http.MethodGet, "/api/v1/users/3", "203.0.113.7:1").Code)
	}
}

// A nil hook is the default answer, also when it replaces an earlier hook.
func TestNilHooksAnswerByDefault(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.Use(echolimit.New(perMinute(1), quiet,
		echolimit.WithDeniedHandler(func(echo.Context, *core.Decision) error { return errors.New("replaced") }),
		echolimit.WithDeniedHandler(nil), echolimit.WithErrorHandler(nil)))
	e.GET("/api", ok)
	adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1")
	rec := adaptertest.Serve(e, http.MethodGet, "/api", "203.0.113.7:1")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Contains(t, rec.Body.String(), `"error":"rate_limit_exceeded"`)
}
