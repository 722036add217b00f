package echolimit

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adapter"
)

// Option configures the middleware of [New] and [Middleware]; the functions below build
// them.
type Option = adapter.Option[echo.Context]

// WithCoreOptions passes options to the Limiter that [New] builds (a store, a clock, a
// logger, an observer). [Middleware] ignores them: its Limiter is already built.
func WithCoreOptions(opts ...core.Option) Option {
	return adapter.WithCoreOptions[echo.Context](opts...)
}

// WithSkipper lets the requests for which skip returns true through untouched: no
// counter, no headers, and [FromContext] reports no decision. A middleware.Skipper fits.
// It skips the middleware's rule only: [Allow] in the handler still decides under the
// rule it names.
func WithSkipper(skip func(c echo.Context) bool) Option { return adapter.WithSkipper(skip) }

// WithKeyFunc counts requests under the key that key returns (scope "key") instead of
// the client's address or verified user; when it returns "", the default identity
// applies. Exemptions by address still apply.
//
// The key is trusted as given: a key function that returns a raw request header (an API
// key nobody verified) lets a client send a fresh random value with every request and
// get a fresh quota each time. Return only identities the application has verified; for
// API keys, use core.WithKeyLookup, which counts unknown keys by address.
func WithKeyFunc(key func(c echo.Context) string) Option { return adapter.WithKeyFunc(key) }

// WithDeniedHandler replaces the 429 response. The handler runs instead of the route's
// handler, with the rate-limit headers and Retry-After already set on c.Response(). It
// either writes the response and returns nil, or returns an error for echo's
// HTTPErrorHandler, such as echo.NewHTTPError(http.StatusTooManyRequests).
func WithDeniedHandler(h func(c echo.Context, d *core.Decision) error) Option {
	return adapter.WithDeniedHandler(hook(h))
}

// WithErrorHandler replaces the 503 response to a request the backend could not decide
// while fail_mode is "closed" (d.Outcome is core.Unavailable and d.Err the cause), as
// [WithDeniedHandler] does for 429. With fail_mode "open" such requests proceed and no
// handler is called.
func WithErrorHandler(h func(c echo.Context, d *core.Decision) error) Option {
	return adapter.WithErrorHandler(hook(h))
}

func hook(h func(echo.Context, *core.Decision) error) adapter.Handler[echo.Context] {
	if h == nil {
		return nil // the default answer, as with no option
	}
	return func(c echo.Context, _ http.ResponseWriter, d *core.Decision) error { return h(c, d) }
}
