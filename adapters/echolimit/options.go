package echolimit

import (
	"github.com/labstack/echo/v4"

	"github.com/ratewarden/ratewarden/core"
)

// Option configures the middleware of [New] and [Middleware].
type Option interface{ apply(*options) }

type options struct {
	core        []core.Option
	skip        func(echo.Context) bool
	key         func(echo.Context) string
	denied      func(echo.Context, *core.Decision) error
	unavailable func(echo.Context, *core.Decision) error
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
// counter, no headers, and [FromContext] reports no decision. A middleware.Skipper fits.
func WithSkipper(skip func(c echo.Context) bool) Option {
	return optionFunc(func(o *options) { o.skip = skip })
}

// WithKeyFunc counts requests under the key that key returns (scope "key") instead of
// the client's address or verified user; when it returns "", the default identity
// applies. Exemptions by address still apply. The key is not verified: returning a
// header the client sends, such as a raw API key, lets a client rotate values for fresh
// quota ([core.Input.Key]); verify API keys with core.WithKeyLookup instead.
func WithKeyFunc(key func(c echo.Context) string) Option {
	return optionFunc(func(o *options) { o.key = key })
}

// WithDeniedHandler replaces the 429 response. The handler runs instead of the route's
// handler, with the rate-limit headers and Retry-After already set on c.Response(). It
// either writes the response and returns nil, or returns an error for echo's
// HTTPErrorHandler, such as echo.NewHTTPError(http.StatusTooManyRequests).
func WithDeniedHandler(h func(c echo.Context, d *core.Decision) error) Option {
	return optionFunc(func(o *options) { o.denied = h })
}

// WithErrorHandler replaces the 503 response to a request the backend could not decide
// while fail_mode is "closed" (d.Outcome is core.Unavailable and d.Err the cause), as
// [WithDeniedHandler] does for 429. With fail_mode "open" such requests proceed and no
// handler is called.
func WithErrorHandler(h func(c echo.Context, d *core.Decision) error) Option {
	return optionFunc(func(o *options) { o.unavailable = h })
}
