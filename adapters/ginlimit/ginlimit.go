package ginlimit

import (
	"github.com/gin-gonic/gin"

	_ "github.com/ratewarden/ratewarden/backends/memorystore" // the "memory" backend for New
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adapter"
	"github.com/ratewarden/ratewarden/core/config"
)

// New builds a Limiter from cfg and returns its middleware. It panics with the
// configuration's validation error when cfg is invalid, like regexp.MustCompile: a
// misconfiguration fails at start, never per request. Use [Middleware] with a Limiter of
// your own to handle that error, to reload the configuration, or to close the Limiter.
func New(cfg config.Config, opts ...Option) gin.HandlerFunc {
	o := adapter.Collect(core.PathDecoded, opts)
	return middleware(core.MustNew(cfg, o.Core...), o)
}

// Middleware returns gin middleware that limits requests with lim. It is safe for
// concurrent use, as lim is.
//
// A request that may proceed gets its rate-limit headers before the next handlers run,
// so that every response, including 5xx and those of gin.Recovery, carries them. A
// denied request is aborted (c.Abort) and answered 429 with the JSON body of the
// configuration, or by the [WithDeniedHandler] hook; one the backend could not decide
// with fail_mode "closed" is answered 503, or by the [WithErrorHandler] hook.
func Middleware(lim *core.Limiter, opts ...Option) gin.HandlerFunc {
	return middleware(lim, adapter.Collect(core.PathDecoded, opts))
}

func middleware(lim *core.Limiter, o *adapter.Options[*gin.Context]) gin.HandlerFunc {
	return func(c *gin.Context) {
		if o.Skip(c) {
			c.Request = lim.Skipped(c.Request) // for Allow in the handler
			return
		}
		var d *core.Decision
		c.Request, d = lim.Gate(o.Input(c, c.Request, c.FullPath()), c.Writer.Header())
		switch {
		case d.CountsResponse(): // count_statuses: the status decides whether it counts
			c.Next()
			d.Complete(c.Request.Context(), c.Writer.Status())
		case d.Proceed(): // gin runs the next handler
		default:
			c.Abort()
			_ = o.Respond(c, c.Writer, d) // gin's hooks return no error
		}
	}
}

// Allow decides the request of c again from inside its handler, under the rule named
// rule (an endpoint's name, or "default") and counted under key ("" keeps the client's
// identity): a login handler limits attempts per username it read from the form. It
// sets that decision's headers on c.Writer; when the request may not proceed it aborts
// c, answers 429 (or 503) and returns false, and the handler returns. A request the
// middleware's skipper let through is decided too. It panics when no ratewarden
// middleware ran before the handler (see core.GateRule).
//
//	if !ginlimit.Allow(c, "login", c.PostForm("username")) {
//		return
//	}
func Allow(c *gin.Context, rule, key string) bool {
	var d *core.Decision
	c.Request, d = core.GateRule(c.Request, c.Writer.Header(), rule, key)
	if d.Proceed() {
		return true
	}
	c.Abort()
	d.WriteResponse(c.Writer)
	return false
}

// FromContext returns the decision the middleware made for the request of c. ok is
// false when no ratewarden middleware decided the request (or a skipper let it through).
// With several limiters on one route, it is the last one's.
func FromContext(c *gin.Context) (d *core.Decision, ok bool) {
	if c.Request == nil {
		return nil, false
	}
	return core.FromContext(c.Request.Context())
}
