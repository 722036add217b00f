package ginlimit

import (
	"github.com/gin-gonic/gin"

	"github.com/ratewarden/ratewarden/core"
)

// Option configures the middleware of [New] and [Middleware].
type Option interface{ apply(*options) }

type options struct {
	core        []core.Option
	skip        func(*gin.Context) bool
	key         func(*gin.Context) string
	denied      func(*gin.Context, *core.Decision)
	unavailable func(*gin.Context, *core.Decision)
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
func WithSkipper(skip func(c *gin.Context) bool) Option {
	return optionFunc(func(o *options) { o.skip = skip })
}

// WithKeyFunc counts requests under the key that key returns (scope "key") instead of
// the client's address or verified user; when it returns "", the default identity
// applies. Exemptions by address still apply. The key is not verified: returning a
// header the client sends, such as a raw API key, lets a client rotate values for fresh
// quota ([core.Input.Key]); verify API keys with core.WithKeyLookup instead.
func WithKeyFunc(key func(c *gin.Context) string) Option {
	return optionFunc(func(o *options) { o.key = key })
}

// WithDeniedHandler replaces the 429 response. The handler runs after c.Abort, with the
// rate-limit headers and Retry-After already set on c.Writer; it must write the response
// (d.WriteResponse(c.Writer) writes the default one).
func WithDeniedHandler(h func(c *gin.Context, d *core.Decision)) Option {
	return optionFunc(func(o *options) { o.denied = h })
}

// WithErrorHandler replaces the 503 response to a request the backend could not decide
// while fail_mode is "closed" (d.Outcome is core.Unavailable and d.Err the cause). The
// handler runs after c.Abort, with Retry-After already set; it must write the response.
// With fail_mode "open" such requests proceed and no handler is called.
func WithErrorHandler(h func(c *gin.Context, d *core.Decision)) Option {
	return optionFunc(func(o *options) { o.unavailable = h })
}
