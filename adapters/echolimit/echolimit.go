package echolimit

import (
	"github.com/labstack/echo/v4"

	_ "github.com/ratewarden/ratewarden/backends/memorystore" // the "memory" backend for New
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adapter"
	"github.com/ratewarden/ratewarden/core/config"
)

// New builds a Limiter from cfg and returns its middleware. It panics with the
// configuration's validation error when cfg is invalid, like regexp.MustCompile: a
// misconfiguration fails at start, never per request. Use [Middleware] with a Limiter of
// your own to handle that error, to reload the configuration, or to close the Limiter.
func New(cfg config.Config, opts ...Option) echo.MiddlewareFunc {
	o := adapter.Collect(core.PathSegmentsRaw, opts)
	return middleware(core.MustNew(cfg, o.Core...), o)
}

// Middleware returns echo middleware that limits requests with lim. It is safe for
// concurrent use, as lim is.
//
// A request that may proceed gets its rate-limit headers before the handler runs, so
// that every response carries them, including those of the HTTPErrorHandler and of
// middleware.Recover. A denied request is answered 429 with the JSON body of the
// configuration, or by the [WithDeniedHandler] hook; one the backend could not decide
// with fail_mode "closed" is answered 503, or by the [WithErrorHandler] hook. The handler
// does not run in either case.
func Middleware(lim *core.Limiter, opts ...Option) echo.MiddlewareFunc {
	return middleware(lim, adapter.Collect(core.PathSegmentsRaw, opts))
}

func middleware(lim *core.Limiter, o *adapter.Options[echo.Context]) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if o.Skip(c) {
				c.SetRequest(lim.Skipped(c.Request())) // for Allow in the handler
				return next(c)
			}
			r, d := lim.Gate(o.Input(c, c.Request(), c.Path()), c.Response().Header())
			c.SetRequest(r)
			switch {
			case d.CountsResponse(): // count_statuses: the status decides whether it counts
				if err := next(c); err != nil {
					c.Error(err) // the HTTPErrorHandler's answer is the status to count
				}
				d.Complete(r.Context(), c.Response().Status)
				return nil
			case d.Proceed():
				return next(c)
			}
			return o.Respond(c, c.Response(), d)
		}
	}
}

// Allow decides the request of c again from inside its handler, under the rule named
// rule (an endpoint's name, or "default") and counted under key ("" keeps the client's
// identity): a login handler limits attempts per username it read from the form. It
// sets that decision's headers on c.Response(); when the request may not proceed it
// answers 429 (or 503) and returns false, and the handler returns nil. A request the
// middleware's skipper let through is decided too. It panics when no ratewarden
// middleware ran before the handler (see core.GateRule).
//
//	if !echolimit.Allow(c, "login", c.FormValue("username")) {
//		return nil
//	}
func Allow(c echo.Context, rule, key string) bool {
	r, d := core.GateRule(c.Request(), c.Response().Header(), rule, key)
	c.SetRequest(r)
	if d.Proceed() {
		return true
	}
	d.WriteResponse(c.Response())
	return false
}

// FromContext returns the decision the middleware made for the request of c. ok is
// false when no ratewarden middleware decided the request (or a skipper let it through).
// With several limiters on one route, it is the last one's.
func FromContext(c echo.Context) (d *core.Decision, ok bool) {
	if c.Request() == nil {
		return nil, false
	}
	return core.FromContext(c.Request().Context())
}
