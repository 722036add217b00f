// Package adapter holds what every framework adapter of ratewarden shares (adapters/ginlimit,
// echolimit, httplimit and, through httplimit, chilimit): the options they offer and the
// answer to a request that may not proceed. An adapter adds only its framework's idiom: its
// middleware signature, its request context type C (*gin.Context, echo.Context,
// *http.Request) and its route template.
//
// A framework adapter reads:
//
//	type Option = adapter.Option[*gin.Context]
//
//	func middleware(lim *core.Limiter, o *adapter.Options[*gin.Context]) gin.HandlerFunc {
//		return func(c *gin.Context) {
//			if o.Skip(c) {
//				c.Request = lim.Skipped(c.Request) // Allow in the handler still decides
//				return
//			}
//			var d *core.Decision
//			c.Request, d = lim.Gate(o.Input(c, c.Request, c.FullPath()), c.Writer.Header())
//			if !d.Proceed() {
//				c.Abort()
//				_ = o.Respond(c, c.Writer, d)
//			}
//		}
//	}
//
// Users do not import this package: each adapter exports its own With… functions.
package adapter

import (
	"net/http"

	"github.com/ratewarden/ratewarden/core"
)

// Option configures an adapter's middleware for a framework whose request context is C.
// Options are sealed: the adapters' With… functions build them; the zero Option does
// nothing.
type Option[C any] struct{ apply func(*Options[C]) }

// Handler answers a request that may not proceed, in place of the default 429 or 503.
// The rate-limit headers and Retry-After are already set on w. It returns the error the
// framework's own error handling should see (echo's HTTPErrorHandler), or nil.
type Handler[C any] func(c C, w http.ResponseWriter, d *core.Decision) error

// Options are the settings every adapter offers. The zero value decides every request
// with the client's own identity and answers with the configuration's 429 and 503.
// Options are read-only once built, so the middleware may share them across goroutines.
type Options[C any] struct {
	// Core are the options for the Limiter an adapter's New builds.
	Core []core.Option
	// skip, key and route are [WithSkipper], [WithKeyFunc] and [WithRouteFunc].
	skip  func(C) bool
	key   func(C) string
	route func(C) string
	// path is how the router reads a path: the adapter's, or [WithPathView]'s.
	path core.PathView
	// denied and unavailable are [WithDeniedHandler] and [WithErrorHandler].
	denied, unavailable Handler[C]
}

// Collect applies opts in order: a later option replaces an earlier one of the same kind.
// view is how the adapter's router reads a request's path to route it (core.PathView),
// which [WithPathView] replaces.
func Collect[C any](view core.PathView, opts []Option[C]) *Options[C] {
	o := &Options[C]{path: view}
	for _, opt := range opts {
		if opt.apply != nil {
			opt.apply(o)
		}
	}
	return o
}

// WithCoreOptions adds options for the Limiter an adapter's New builds.
func WithCoreOptions[C any](opts ...core.Option) Option[C] {
	return Option[C]{func(o *Options[C]) { o.Core = append(o.Core, opts...) }}
}

// WithSkipper lets the requests for which skip returns true through untouched.
func WithSkipper[C any](skip func(C) bool) Option[C] {
	return Option[C]{func(o *Options[C]) { o.skip = skip }}
}

// WithKeyFunc counts requests under the key that key returns (scope "key"); "" keeps the
// default identity.
func WithKeyFunc[C any](key func(C) string) Option[C] {
	return Option[C]{func(o *Options[C]) { o.key = key }}
}

// WithRouteFunc tells the middleware the route template of a request, for routers whose
// template the adapter cannot read itself.
func WithRouteFunc[C any](route func(C) string) Option[C] {
	return Option[C]{func(o *Options[C]) { o.route = route }}
}

// WithPathView tells the middleware how the router reads a request's path to route it,
// replacing the adapter's own view, so that rules match the path as the router does: for
// a router other than the adapter's default (a chi router behind httplimit, gin with
// UseRawPath).
func WithPathView[C any](view core.PathView) Option[C] {
	return Option[C]{func(o *Options[C]) { o.path = view }}
}

// WithDeniedHandler replaces the 429 response.
func WithDeniedHandler[C any](h Handler[C]) Option[C] {
	return Option[C]{func(o *Options[C]) { o.denied = h }}
}

// WithErrorHandler replaces the 503 response to a request the backend could not decide
// while fail_mode is "closed".
func WithErrorHandler[C any](h Handler[C]) Option[C] {
	return Option[C]{func(o *Options[C]) { o.unavailable = h }}
}

// Skip reports whether the request of c passes untouched ([WithSkipper]). The adapter
// then passes on [core.Limiter.Skipped]'s copy of the request, so that the handler's
// Allow still decides.
func (o *Options[C]) Skip(c C) bool { return o.skip != nil && o.skip(c) }

// Input is the decision input for the request r of c: route is the framework's route
// template ("" when it has none), replaced by [WithRouteFunc]'s when set; the key is
// [WithKeyFunc]'s; the path view is the one [Collect] was given, or [WithPathView]'s. When C is *http.Request (httplimit, chilimit), the route function is
// left to the decision (core.Input.RouteOf), which calls it only when a rule needs it.
func (o *Options[C]) Input(c C, r *http.Request, route string) core.Input {
	in := core.Input{Request: r, Route: route, PathView: o.path}
	if o.route != nil {
		if f, ok := any(o.route).(func(*http.Request) string); ok {
			in.RouteOf = f // C is the request: asked only when a rule needs it (core.Input)
		} else {
			in.Route = o.route(c)
		}
	}
	if o.key != nil {
		in.Key = o.key(c)
	}
	return in
}

// Respond answers a request whose decision d does not let it proceed: with the
// [WithDeniedHandler] or [WithErrorHandler] hook when one is set for d's outcome, else with
// the configuration's 429 or 503 ([core.Decision.WriteResponse]). It returns the hook's
// error.
func (o *Options[C]) Respond(c C, w http.ResponseWriter, d *core.Decision) error {
	switch {
	case d.Outcome == core.Denied && o.denied != nil:
		return o.denied(c, w, d)
	case d.Outcome == core.Unavailable && o.unavailable != nil:
		return o.unavailable(c, w, d)
	}
	d.WriteResponse(w)
	return nil
}
