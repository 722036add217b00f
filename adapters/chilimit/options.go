package chilimit

import (
	"net/http"

	"github.com/ratewarden/ratewarden/adapters/httplimit"
	"github.com/ratewarden/ratewarden/core"
)

// Option configures the middleware of [New] and [Middleware]: httplimit's options, which
// the functions below return (see [httplimit.Option]).
type Option = httplimit.Option

// WithCoreOptions is [httplimit.WithCoreOptions]: options for the Limiter that [New] builds.
func WithCoreOptions(opts ...core.Option) Option { return httplimit.WithCoreOptions(opts...) }

// WithSkipper is [httplimit.WithSkipper]: requests for which skip returns true pass
// untouched; [Allow] in the handler still decides under the rule it names.
func WithSkipper(skip func(r *http.Request) bool) Option { return httplimit.WithSkipper(skip) }

// WithKeyFunc is [httplimit.WithKeyFunc]: requests are counted under the key key returns.
func WithKeyFunc(key func(r *http.Request) string) Option { return httplimit.WithKeyFunc(key) }

// WithDeniedHandler is [httplimit.WithDeniedHandler]: h answers a denial instead of the
// default 429.
func WithDeniedHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return httplimit.WithDeniedHandler(h)
}

// WithErrorHandler is [httplimit.WithErrorHandler]: h answers a request the backend could
// not decide with fail_mode "closed" instead of the default 503.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, d *core.Decision)) Option {
	return httplimit.WithErrorHandler(h)
}
