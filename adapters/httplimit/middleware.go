package httplimit

import (
	"context"
	"net/http"

	_ "github.com/ratewarden/ratewarden/backends/memorystore" // the "memory" backend for New
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adapter"
	"github.com/ratewarden/ratewarden/core/config"
)

// New builds a Limiter from cfg and returns its middleware. It panics with the
// configuration's validation error when cfg is invalid, like regexp.MustCompile: a
// misconfiguration fails at start, never per request. Use [Middleware] with a Limiter of
// your own to handle the error, to reload the configuration, or to close the Limiter.
func New(cfg config.Config, opts ...Option) func(http.Handler) http.Handler {
	o := adapter.Collect(core.PathSegmentsUnescaped, opts)
	return middleware(core.MustNew(cfg, o.Core...), o)
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
	return middleware(lim, adapter.Collect(core.PathSegmentsUnescaped, opts))
}

func middleware(lim *core.Limiter, o *adapter.Options[*http.Request]) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o.Skip(r) {
				next.ServeHTTP(w, lim.Skipped(r)) // for Allow in the handler
				return
			}
			r, d := lim.Gate(o.Input(r, r, ""), w.Header())
			switch {
			case d.CountsResponse(): // count_statuses: the status decides whether it counts
				sw := &statusWriter{ResponseWriter: w}
				next.ServeHTTP(sw, r)
				d.Complete(r.Context(), sw.Status())
			case d.Proceed():
				next.ServeHTTP(w, r)
			default:
				_ = o.Respond(r, w, d) // net/http's hooks return no error
			}
		})
	}
}

// Allow decides r again from inside its handler, under the rule named rule (an
// endpoint's name, or "default") and counted under key ("" keeps the client's identity):
// a login handler limits attempts per username it read from the form. It sets that
// decision's headers on w; when the request may not proceed it answers 429 (or 503) and
// returns false, and the handler returns. r's context still carries the middleware's
// decision for [FromContext]. A request the middleware's skipper let through is decided
// too. It panics when no ratewarden middleware ran before the handler (see
// core.GateRule).
//
//	if !httplimit.Allow(w, r, "login", r.PostFormValue("username")) {
//		return
//	}
func Allow(w http.ResponseWriter, r *http.Request, rule, key string) bool {
	_, d := core.GateRule(r, w.Header(), rule, key)
	if d.Proceed() {
		return true
	}
	d.WriteResponse(w)
	return false
}

// FromContext returns the decision the middleware made for the request whose context is
// ctx. ok is false when the middleware did not run (or skipped the request).
func FromContext(ctx context.Context) (d *core.Decision, ok bool) { return core.FromContext(ctx) }
