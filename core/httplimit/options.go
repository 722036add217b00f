package httplimit

import (
	"net/http"

	"github.com/ratewarden/ratewarden/core"
)

// Option configures the middleware.
type Option interface{ apply(*options) }

type options struct {
	core    []core.Option
	skipper func(*http.Request) bool
	keyFunc func(*http.Request) string
	route   func(*http.Request) string
	denied  func(http.ResponseWriter, *http.Request, *core.Decision)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

func newOptions(opts []Option) *options {
	o := &options{denied: defaultDenied}
	for _, opt := range opts {
		opt.apply(o)
	}
	return o
}

func defaultDenied(w http.ResponseWriter, _ *http.Request, d *core.Decision) { d.WriteResponse(w) }

// WithCoreOptions passes options to the Limiter that [New] builds (a store, a clock, a
// logger, an observer). [Middleware] ignores them: its Limiter is already built.
func WithCoreOptions(opts ...core.Option) Option {
	return optionFunc(func(o *options) { o.core = append(o.core, opts...) })
}

// WithSkipper lets requests for which skip returns true through untouched: no counter,
// no headers.
func WithSkipper(skip func(*http.Request) bool) Option {
	return optionFunc(func(o *options) { o.skipper = skip })
}

// WithKeyFunc replaces the client identity with the key key returns (scope "key"), unless
// it returns "".
func WithKeyFunc(key func(*http.Request) string) Option {
	return optionFunc(func(o *options) { o.keyFunc = key })
}

// WithRouteFunc tells the middleware the route template of a request ("/users/{id}"),
// when the router knows it before the middleware runs, so rules can match it.
func WithRouteFunc(route func(*http.Request) string) Option {
	return optionFunc(func(o *options) { o.route = route })
}

// WithDeniedHandler replaces the response to a request that must not proceed (a 429, or
// a 503 when the backend is unavailable and fail_mode is closed). The handler should
// call d.WriteHeaders(w.Header()) to keep the rate-limit headers.
func WithDeniedHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return optionFunc(func(o *options) { o.denied = h })
}
