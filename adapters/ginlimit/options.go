package ginlimit

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adapter"
)

// Option configures the middleware of [New] and [Middleware]; the functions below build
// them.
type Option = adapter.Option[*gin.Context]

// WithCoreOptions passes options to the Limiter that [New] builds (a store, a clock, a
// logger, an observer). [Middleware] ignores them: its Limiter is already built.
func WithCoreOptions(opts ...core.Option) Option {
	return adapter.WithCoreOptions[*gin.Context](opts...)
}

// WithSkipper lets the requests for which skip returns true through untouched: no
// counter, no headers, and [FromContext] reports no decision.
// It skips the middleware's rule only: [Allow] in the handler still decides under the
// rule it names.
func WithSkipper(skip func(c *gin.Context) bool) Option { return adapter.WithSkipper(skip) }

// WithKeyFunc counts requests under the key that key returns (scope "key") instead of
// the client's address or verified user; when it returns "", the default identity
// applies. Exemptions by address still apply.
//
// The key is trusted as given: a key function that returns a raw request header (an API
// key nobody verified) lets a client send a fresh random value with every request and
// get a fresh quota each time. Return only identities the application has verified; for
// API keys, use core.WithKeyLookup, which counts unknown keys by address.
func WithKeyFunc(key func(c *gin.Context) string) Option { return adapter.WithKeyFunc(key) }

// WithPathView tells the middleware how the engine reads a request's path to route it,
// so that rules match a path sent with escapes ("/users/m%65") as gin does. The default
// is gin's default, core.PathDecoded (url.URL.Path); an engine with UseRawPath or
// UseEscapedPath set routes the escaped path undecoded: core.PathSegmentsRaw.
func WithPathView(view core.PathView) Option { return adapter.WithPathView[*gin.Context](view) }

// WithDeniedHandler replaces the 429 response. The handler runs after c.Abort, with the
// rate-limit headers and Retry-After already set on c.Writer; it must write the response
// (d.WriteResponse(c.Writer) writes the default one).
func WithDeniedHandler(h func(c *gin.Context, d *core.Decision)) Option {
	return adapter.WithDeniedHandler(hook(h))
}

// WithErrorHandler replaces the 503 response to a request the backend could not decide
// while fail_mode is "closed" (d.Outcome is core.Unavailable and d.Err the cause). The
// handler runs after c.Abort, with Retry-After already set; it must write the response.
// With fail_mode "open" such requests proceed and no handler is called.
func WithErrorHandler(h func(c *gin.Context, d *core.Decision)) Option {
	return adapter.WithErrorHandler(hook(h))
}

func hook(h func(*gin.Context, *core.Decision)) adapter.Handler[*gin.Context] {
	if h == nil {
		return nil // the default answer, as with no option
	}
	return func(c *gin.Context, _ http.ResponseWriter, d *core.Decision) error {
		h(c, d)
		return nil
	}
}
