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
	// unavailable answers a 503 (backend down, fail_mode closed).
	unavailable func(http.ResponseWriter, *http.Request, *core.Decision)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

func newOptions(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		opt.apply(o)
	}
	return o
}

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

// WithDeniedHandler replaces the 429 response to a denied request. The rate-limit
// headers, Retry-After included, are already set when it runs.
func WithDeniedHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return optionFunc(func(o *options) { o.denied = h })
}

// WithErrorHandler replaces the 503 response to a request the backend could not decide
// with fail_mode "closed". Retry-After is already set when it runs.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return optionFunc(func(o *options) { o.unavailable = h })
}
