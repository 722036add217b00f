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

// WithSkipper lets the requests for which skip returns true through untouched: no
// counter, no headers, and [FromContext] reports no decision.
func WithSkipper(skip func(*http.Request) bool) Option {
	return optionFunc(func(o *options) { o.skipper = skip })
}

// WithKeyFunc counts requests under the key that key returns (scope "key") instead of
// the client's address or verified user; when it returns "", the default identity
// applies. Exemptions by address still apply. The key is not verified: returning a
// header the client sends, such as a raw API key, lets a client rotate values for fresh
// quota ([core.Input.Key]); verify API keys with core.WithKeyLookup instead.
func WithKeyFunc(key func(*http.Request) string) Option {
	return optionFunc(func(o *options) { o.keyFunc = key })
}

// WithRouteFunc tells the middleware the route template of a request ("/users/{id}"),
// when the router knows it before the middleware runs, so rules can match it.
func WithRouteFunc(route func(*http.Request) string) Option {
	return optionFunc(func(o *options) { o.route = route })
}

// WithDeniedHandler replaces the 429 response. The handler runs instead of the route's
// handler, with the rate-limit headers and Retry-After already set on w.Header(); it
// must write the response (d.WriteResponse(w) writes the default one). r carries the
// decision for [FromContext].
func WithDeniedHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return optionFunc(func(o *options) { o.denied = h })
}

// WithErrorHandler replaces the 503 response to a request the backend could not decide
// while fail_mode is "closed" (d.Outcome is core.Unavailable and d.Err the cause), as
// [WithDeniedHandler] does for 429. With fail_mode "open" such requests proceed and no
// handler is called.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return optionFunc(func(o *options) { o.unavailable = h })
}
