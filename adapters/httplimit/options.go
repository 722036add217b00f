package httplimit

import (
	"net/http"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adapter"
)

// Option configures the middleware of [New] and [Middleware]; the functions below build
// them.
type Option = adapter.Option[*http.Request]

// WithCoreOptions passes options to the Limiter that [New] builds (a store, a clock, a
// logger, an observer). [Middleware] ignores them: its Limiter is already built.
func WithCoreOptions(opts ...core.Option) Option {
	return adapter.WithCoreOptions[*http.Request](opts...)
}

// WithSkipper lets the requests for which skip returns true through untouched: no
// counter, no headers, and [FromContext] reports no decision.
// It skips the middleware's rule only: [Allow] in the handler still decides under the
// rule it names.
func WithSkipper(skip func(*http.Request) bool) Option { return adapter.WithSkipper(skip) }

// WithKeyFunc counts requests under the key that key returns (scope "key") instead of
// the client's address or verified user; when it returns "", the default identity
// applies. Exemptions by address still apply.
//
// The key is trusted as given: a key function that returns a raw request header (an API
// key nobody verified) lets a client send a fresh random value with every request and
// get a fresh quota each time. Return only identities the application has verified; for
// API keys, use core.WithKeyLookup, which counts unknown keys by address.
func WithKeyFunc(key func(*http.Request) string) Option { return adapter.WithKeyFunc(key) }

// WithRouteFunc tells the middleware the route template of a request ("/users/{id}"),
// when the router knows it before the middleware runs, so rules can match it. route is
// called at most once per request, and only when an endpoint rule for the request's
// method does not match its path (never with only the default rule), with the request
// being decided (the one the handler gets).
func WithRouteFunc(route func(*http.Request) string) Option { return adapter.WithRouteFunc(route) }

// WithPathView tells the middleware how the router reads a request's path to route it,
// so that rules match a path sent with escapes ("/users/m%65", "/users/a%2Fb") as the
// router does. The default is net/http's ServeMux's, core.PathSegmentsUnescaped; a router
// that routes url.URL.RawPath undecoded (chi, which chilimit sets) wants
// core.PathSegmentsRaw, one that routes url.URL.Path core.PathDecoded.
func WithPathView(view core.PathView) Option { return adapter.WithPathView[*http.Request](view) }

// WithDeniedHandler replaces the 429 response. The handler runs instead of the route's
// handler, with the rate-limit headers and Retry-After already set on w.Header(); it
// must write the response (d.WriteResponse(w) writes the default one). r carries the
// decision for [FromContext].
func WithDeniedHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return adapter.WithDeniedHandler(hook(h))
}

// WithErrorHandler replaces the 503 response to a request the backend could not decide
// while fail_mode is "closed" (d.Outcome is core.Unavailable and d.Err the cause), as
// [WithDeniedHandler] does for 429. With fail_mode "open" such requests proceed and no
// handler is called.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return adapter.WithErrorHandler(hook(h))
}

func hook(h func(http.ResponseWriter, *http.Request, *core.Decision)) adapter.Handler[*http.Request] {
	if h == nil {
		return nil // the default answer, as with no option
	}
	return func(r *http.Request, w http.ResponseWriter, d *core.Decision) error {
		h(w, r, d)
		return nil
	}
}
