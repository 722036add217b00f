package httplimit

import (
	"context"
	"net/http"

	_ "github.com/ratewarden/ratewarden/backends/memorystore" // the "memory" backend for New
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// New builds a Limiter from cfg and returns its middleware. It panics with the
// configuration's validation error when cfg is invalid, like regexp.MustCompile: a
// misconfiguration fails at start, never per request. Use [Middleware] with a Limiter of
// your own to handle the error, to reload the configuration, or to close the Limiter.
func New(cfg config.Config, opts ...Option) func(http.Handler) http.Handler {
	o := newOptions(opts)
	return middleware(core.MustNew(cfg, o.core...), o)
}

// Middleware returns net/http middleware that limits requests with lim. It is safe for
// concurrent use, as lim is.
//
// A request that may proceed gets its rate-limit headers before the handler runs, so
// that every response carries them, 5xx and recovered panics included. A denied request
// is answered 429 with the JSON body of the configuration, or by the [WithDeniedHandler]
// hook; one the backend could not decide with fail_mode "closed" is answered 503, or by
// the [WithErrorHandler] hook. The handler does not run in either case.
func Middleware(lim *core.Limiter, opts ...Option) func(http.Handler) http.Handler {
	return middleware(lim, newOptions(opts))
}

func middleware(lim *core.Limiter, o *options) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o.skipper != nil && o.skipper(r) {
				next.ServeHTTP(w, r)
				return
			}
			in := core.Input{Request: r}
			if o.route != nil {
				in.Route = o.route(r)
			}
			if o.keyFunc != nil {
				in.Key = o.keyFunc(r)
			}
			r, d := lim.Gate(in, w.Header())
			switch {
			case d.Proceed():
				next.ServeHTTP(w, r)
			case d.Outcome == core.Denied && o.denied != nil:
				o.denied(w, r, d)
			case d.Outcome == core.Unavailable && o.unavailable != nil:
				o.unavailable(w, r, d)
			default:
				d.WriteResponse(w)
			}
		})
	}
}

// FromContext returns the decision the middleware made for the request whose context is
// ctx. ok is false when the middleware did not run (or skipped the request).
func FromContext(ctx context.Context) (d *core.Decision, ok bool) { return core.FromContext(ctx) }
